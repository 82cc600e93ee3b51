import ArgumentParser
import DockerConfiguration
import FoundationEssentials
import HelperWiring
#if canImport(Glibc)
import Glibc
#endif

struct Configure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make Docker use this helper: edit Docker's config.json, keeping everything else in it.",
        discussion: """
            Edits $DOCKER_CONFIG/config.json (default ~/.docker/config.json): --global sets \
            "credsStore": "acr" (every registry; the default), --registry sets "credHelpers" for one \
            registry (skopeo, podman and buildah read only these). The file as it was is kept beside it as \
            config.json.bak-docker-credential-acr, and the new one replaces it atomically; running it \
            again changes nothing. --undo gives back the settings the backup holds (the file's very bytes \
            when nothing else changed since). --containers edits podman's, buildah's and skopeo's \
            auth.json as well ($REGISTRY_AUTH_FILE, else ~/.config/containers/auth.json and, where it \
            exists, $XDG_RUNTIME_DIR/containers/auth.json), in the same way; they ignore credsStore, so \
            there it needs --registry.

            Examples:
              docker-credential-acr configure --global
              docker-credential-acr configure --registry myregistry.azurecr.io --containers --dry-run
              docker-credential-acr configure --undo --containers
            """)

    @Flag(help: "Use the helper for every registry (\"credsStore\"). The default.")
    var global = false

    @Option(name: .customLong("registry"), help: ArgumentHelp("Use the helper for this registry (\"credHelpers\"); repeatable.", valueName: "server"))
    var registries: [String] = []

    @Flag(help: "Print what would change, as a diff, and change nothing.")
    var dryRun = false

    @Flag(help: "Give back the settings that configure replaced.")
    var undo = false

    @Flag(help: "Edit podman's, buildah's and skopeo's auth.json as well (credHelpers only).")
    var containers = false

    func validate() throws {
        if containers && !undo && registries.isEmpty {
            throw ValidationError("podman, buildah and skopeo ignore credsStore: name the registries with --registry")
        }
        if undo && (global || !registries.isEmpty) { throw ValidationError("--undo cannot be combined with --global or --registry") }
        if global && !registries.isEmpty { throw ValidationError("choose --global or --registry, not both") }
    }

    func run() async throws {
        let change: ConfigChange = undo ? .undo : registries.isEmpty ? .global : .registries(registries)
        let environment = ProcessInfo.processInfo.environment
        var editors = [DockerConfigEditor(path: DockerConfigEditor.defaultPath(environment: environment))]
        if containers {
            editors += DockerConfigEditor.containersAuthFiles(environment: environment).map { DockerConfigEditor(containersAuthFile: $0) }
        }
        try await reportingFailure("configure") {
            // Every file is planned before any is written: one that cannot be edited stops them all.
            let plans = try editors.map { editor throws(DockerConfigurationError) in (editor, try editor.plan(change)) }
            for (editor, plan) in plans {
                Output.write(plan.summary + "\n", to: STDOUT_FILENO)
                if dryRun {
                    Output.write(plan.diff, to: STDOUT_FILENO)
                } else if !plan.isNoChange {
                    try editor.apply(plan)
                    Output.write("saved \(editor.path); the previous settings are in \(editor.backupPath)\n", to: STDOUT_FILENO)
                }
            }
        }
    }
}
