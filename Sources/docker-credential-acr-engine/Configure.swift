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
            again changes nothing. --undo gives back the settings the backup holds.

            Examples:
              docker-credential-acr configure --global
              docker-credential-acr configure --registry myregistry.azurecr.io --dry-run
              docker-credential-acr configure --undo
            """)

    @Flag(help: "Use the helper for every registry (\"credsStore\"). The default.")
    var global = false

    @Option(name: .customLong("registry"), help: ArgumentHelp("Use the helper for this registry (\"credHelpers\"); repeatable.", valueName: "server"))
    var registries: [String] = []

    @Flag(help: "Print what would change, as a diff, and change nothing.")
    var dryRun = false

    @Flag(help: "Give back the settings that configure replaced.")
    var undo = false

    func validate() throws {
        if undo && (global || !registries.isEmpty) { throw ValidationError("--undo cannot be combined with --global or --registry") }
        if global && !registries.isEmpty { throw ValidationError("choose --global or --registry, not both") }
    }

    func run() async throws {
        let change: ConfigChange = undo ? .undo : registries.isEmpty ? .global : .registries(registries)
        let editor = DockerConfigEditor(path: DockerConfigEditor.defaultPath(environment: ProcessInfo.processInfo.environment))
        try await reportingFailure("configure") {
            let plan = try editor.plan(change)
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
