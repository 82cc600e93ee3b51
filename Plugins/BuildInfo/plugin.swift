import Foundation
import PackagePlugin

/// Writes `BuildInfo.swift` (the commit and its date) before every build, so that `version` tells which
/// source a binary was built from. A checkout without git, or outside a repository, says "unknown".
/// The file is rewritten only when its contents change, so an unchanged commit recompiles nothing.
@main
struct BuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        return [
            .prebuildCommand(
                displayName: "Recording the commit in BuildInfo.swift",
                executable: URL(filePath: "/bin/sh"),
                arguments: ["-c", Self.script, "build-info", context.package.directoryURL.path(), output.path()],
                outputFilesDirectory: output),
        ]
    }

    static let script = #"""
        commit=$(git -C "$1" describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null) || commit=unknown
        date=$(git -C "$1" log -1 --format=%cs 2>/dev/null) || date=unknown
        mkdir -p "$2"
        printf '// Generated before each build by Plugins/BuildInfo.\nenum BuildInfo {\n    static let commit = "%s"\n    static let commitDate = "%s"\n}\n' \
          "$commit" "$date" >"$2/BuildInfo.swift.new"
        if cmp -s "$2/BuildInfo.swift.new" "$2/BuildInfo.swift"; then rm "$2/BuildInfo.swift.new"; else mv "$2/BuildInfo.swift.new" "$2/BuildInfo.swift"; fi
        """#
}
