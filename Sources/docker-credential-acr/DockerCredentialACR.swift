import ArgumentParser
import CredentialStores
import DockerCredentialProtocol
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

@main
struct DockerCredentialACR: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "docker-credential-acr",
        abstract: "Docker credential helper for Azure Container Registry and every other registry.",
        discussion: """
            Docker runs this helper when ~/.docker/config.json says "credsStore": "acr". It keeps the \
            credentials of every registry in the Secret Service keyring, or in a private file where no \
            keyring answers.

            Store: DOCKER_CREDENTIAL_ACR_STORE=secretservice|file|auto (default auto: the keyring when one \
            answers on the session bus, else $XDG_DATA_HOME/docker-credential-acr/credentials.json).

            Exit status: 0 on success, 1 when the action failed (one line on stdout says why), \
            64 for a usage error.
            """,
        version: version,
        subcommands: [Store.self, Get.self, Erase.self, List.self, Version.self]
    )
}

/// Runs one protocol action with Docker's conventions: the answer or the error as one line on stdout,
/// exit 1 on failure. Errors that are not protocol sentinels also go to stderr, which Docker shows to
/// the user even where it swallows stdout.
func runAction(_ body: (CredentialHelper) throws -> String?) throws {
    let environment = ProcessInfo.processInfo.environment
    let helper = CredentialHelper {
        try StoreChoice(environment: environment).open(environment: environment)
    }
    do {
        if let output = try body(helper) { write(output, to: STDOUT_FILENO) }
    } catch {
        write("\(error)\n", to: STDOUT_FILENO)
        if (error as? CredentialHelperError)?.isSentinel != true {
            write("docker-credential-acr: \(error)\n", to: STDERR_FILENO)
        }
        throw ExitCode.failure
    }
}

private func write(_ text: String, to descriptor: Int32) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { return }
        bytes = bytes.dropFirst(count)
    }
}

struct Store: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save the credential Docker sends on stdin.",
        discussion: #"Reads {"ServerURL":"…","Username":"…","Secret":"…"} from stdin."#)

    func run() throws {
        try runAction { helper in
            try helper.store(input: StandardInput.read())
            return nil
        }
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the credential for the server URL on stdin.",
        discussion: """
            Example: echo myreg.azurecr.io | docker-credential-acr get
            Prints {"ServerURL":"…","Username":"…","Secret":"…"}, or "credentials not found in native \
            keychain" with exit status 1.
            """)

    func run() throws {
        try runAction { helper in try helper.get(input: StandardInput.read()) }
    }
}

struct Erase: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the credential for the server URL on stdin.")

    func run() throws {
        try runAction { helper in
            try helper.erase(input: StandardInput.read())
            return nil
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every stored server URL with its username, as a JSON object.")

    func run() throws {
        try runAction { helper in try helper.list() }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the helper's name and version.")

    func run() throws {
        try runAction { _ in CredentialHelper.version(name: "docker-credential-acr", version: DockerCredentialACR.version) }
    }
}
