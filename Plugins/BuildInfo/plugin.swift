import Foundation
import PackagePlugin

/// Writes `BuildInfo_<commit>.swift` (the commit and its date) before every build, so that `version` tells
/// which source a binary was built from. A checkout without git, or outside a repository, says "unknown".
/// The commit is in the file's name: SwiftPM recompiles when the set of generated files changes, not when
/// one of them is rewritten in place; an unchanged commit leaves the file, and recompiles nothing.
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
        file="$2/BuildInfo_$(printf '%s' "$commit" | tr -c 'A-Za-z0-9\n' _).swift"
        mkdir -p "$2"
        [ -f "$file" ] && exit 0
        rm -f "$2"/BuildInfo*.swift
        printf '// Generated before each build by Plugins/BuildInfo.\nenum BuildInfo {\n    static let commit = "%s"\n    static let commitDate = "%s"\n}\n' \
          "$commit" "$date" >"$file.partial" && mv "$file.partial" "$file"
        """#
}
