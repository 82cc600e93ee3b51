import ACRTokenExchange
import ArgumentParser
import CredentialStores
import Diagnostics
import DockerCredentialProtocol
import FoundationEssentials
import HTTPTransport
import Logging
#if canImport(Glibc)
import Glibc
#endif

@main
struct DockerCredentialACR: AsyncParsableCommand {
    static let version = "0.2.0"

    static let configuration = CommandConfiguration(
        commandName: "docker-credential-acr",
        abstract: "Docker credential helper for Azure Container Registry and every other registry.",
        discussion: """
            Docker runs this helper when ~/.docker/config.json says "credsStore": "acr". It keeps the \
            credentials of every registry in the Secret Service keyring, or in a private file where no \
            keyring answers. For Azure Container Registry login servers (*.azurecr.io, .azurecr.cn, \
            .azurecr.us) it derives tokens from the machine's Azure identity and caches them.

            Store: DOCKER_CREDENTIAL_ACR_STORE=secretservice|file|auto (default auto: the \
            keyring when one answers on the session bus, else \
            $XDG_DATA_HOME/docker-credential-acr/credentials.json).

            Exit status: 0 on success, 1 when the action failed (one line on stdout says why), \
            64 for a usage error.
            """,
        version: version,
        subcommands: [Store.self, Get.self, Erase.self, List.self, Version.self, Import.self, Diagnose.self]
    )

    /// Docker runs the protocol actions for every registry operation, so they skip the argument parser:
    /// its first dynamic casts scan every protocol conformance in this large static binary, about 21
    /// million instructions (callgrind) before the action starts. Anything else, including `--help`
    /// and usage errors, goes through the parser.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.count == 1, let action = protocolActions[arguments[0]] {
            var command = action.init()
            do {
                try await command.run()
                Glibc.exit(0)
            } catch {
                // runAction has already said why.
                Glibc.exit(1)
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            Glibc.exit(0)
        } catch {
            // `diagnose` keeps 1 for "a login would fail", so its usage errors exit 2.
            if arguments.first == "diagnose", exitCode(for: error) == .validationFailure {
                writeOut(fullMessage(for: error) + "\n", to: STDERR_FILENO)
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }

    static let protocolActions: [String: any AsyncParsableCommand.Type] = [
        "store": Store.self, "get": Get.self, "erase": Erase.self, "list": List.self, "version": Version.self,
    ]
}

/// Everything an action needs, built from the process's environment.
struct Wiring {
    let environment = ProcessInfo.processInfo.environment

    func helper() -> CredentialHelper {
        CredentialHelper { try registryCredentials() }
    }

    func registryCredentials() throws -> RegistryCredentials {
        let store = try StoreChoice(environment: environment).open(environment: environment)
        var logger = Logger(label: "docker-credential-acr") { _ in
            FileLogHandler(path: FileLogHandler.defaultPath(environment: environment))
        }
        logger.logLevel = environment["DOCKER_CREDENTIAL_ACR_DEBUG"] == "1" ? .debug : .info
        return RegistryCredentials(
            store: store, configuration: try ACRConfiguration.load(environment: environment),
            environment: environment, transport: AsyncHTTPTransport(),
            now: { Int64(Date().timeIntervalSince1970) },
            lockDirectory: StoreChoice.lockDirectory(environment), logger: logger,
            notice: { message in writeOut("docker-credential-acr: \(message)\n", to: STDERR_FILENO) })
    }
}

/// Runs one action with Docker's conventions: the answer or the error as one line on stdout, exit 1 on
/// failure. Errors that are not protocol sentinels also go to stderr, which Docker shows to the user
/// even where it swallows stdout (a `get` during `docker login`).
func runAction(_ body: (Wiring) async throws -> String?) async throws {
    do {
        if let output = try await body(Wiring()) { writeOut(output, to: STDOUT_FILENO) }
    } catch {
        writeOut("\(error)\n", to: STDOUT_FILENO)
        if (error as? CredentialHelperError)?.isSentinel != true {
            writeOut("docker-credential-acr: \(error)\n", to: STDERR_FILENO)
        }
        if let error = error as? ACRError {
            writeOut("docker-credential-acr: to check everything a login needs, run: docker-credential-acr diagnose \(error.server)\n",
                     to: STDERR_FILENO)
        }
        throw ExitCode.failure
    }
}

func writeOut(_ text: String, to descriptor: Int32) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { return }
        bytes = bytes.dropFirst(count)
    }
}

struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save the credential Docker sends on stdin.",
        discussion: #"""
            Reads {"ServerURL":"…","Username":"…","Secret":"…"} from stdin. An ACR token (as printed by \
            `az acr login --expose-token`) stored under any user name is stored under \
            00000000-0000-0000-0000-000000000000, the only user ACR accepts with it.
            """#)

    func run() async throws {
        try await runAction { wiring in
            try wiring.helper().store(input: StandardInput.read())
            return nil
        }
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the credential for the server URL on stdin.",
        discussion: """
            Example: echo myreg.azurecr.io | docker-credential-acr get
            Prints {"ServerURL":"…","Username":"…","Secret":"…"}, or "credentials not found in native \
            keychain" with exit status 1. For an ACR login server without a stored credential, the \
            answer is an ACR refresh token derived from the machine's Azure identity.
            """)

    func run() async throws {
        try await runAction { wiring in try await wiring.helper().get(input: StandardInput.read()) }
    }
}

struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the credential for the server URL on stdin (and an ACR server's cached tokens).")

    func run() async throws {
        try await runAction { wiring in
            try wiring.helper().erase(input: StandardInput.read())
            return nil
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every stored server URL with its username, as a JSON object.")

    func run() async throws {
        try await runAction { wiring in try wiring.helper().list() }
    }
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the helper's name and version.")

    func run() async throws {
        try await runAction { _ in
            CredentialHelper.version(name: "docker-credential-acr", version: DockerCredentialACR.version)
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store the token that `az acr login --expose-token` prints.",
        discussion: """
            Example: az acr login --name myregistry --expose-token | docker-credential-acr import
            Reads {"accessToken":"…","loginServer":"…"} from stdin and stores the token for the login \
            server under 00000000-0000-0000-0000-000000000000; it is used until it expires.
            """)

    func run() async throws {
        try await runAction { wiring in
            let credential = try ExposedTokenImport.parse(StandardInput.read())
            try wiring.registryCredentials().store.save(credential, for: ServerAddress(credential.serverURL))
            return nil
        }
    }
}

struct Diagnose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check everything a login to an Azure Container Registry needs, and say how to fix what is wrong.",
        discussion: """
            Checks Docker's configuration, the registry's name, DNS, TLS and challenge, the firewall, the Azure \
            identity and its Azure AD token, the token exchange, the permissions for --pull/--push, the expiry \
            of stored and cached tokens, and the keyring. Tokens are fetched live and never stored or printed.

            Examples:
              docker-credential-acr diagnose myregistry.azurecr.io --pull hello-world
              docker-credential-acr diagnose --json | jq '.checks[] | select(.status == "error")'

            Exit status: 0 when a login would succeed, 1 when it would fail, 2 for a usage error.
            """)

    @Argument(help: "Login servers to check (default: the ACR registries in Docker's configuration and the store).")
    var registries: [String] = []

    @Option(help: ArgumentHelp("Also check that the identity may pull this repository.", valueName: "repository"))
    var pull: String?

    @Option(help: ArgumentHelp("Also check that the identity may push to this repository.", valueName: "repository"))
    var push: String?

    @Flag(help: "Print JSON: {\"ok\", \"registries\", \"checks\": [{code, status, group, registry, title, found, fix}]}.")
    var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let diagnostician = Diagnostician(
            environment: environment, transport: AsyncHTTPTransport(), now: { Int64(Date().timeIntervalSince1970) },
            executable: Self.executablePath())
        let diagnosis = await diagnostician.diagnose(registries, pull: pull, push: push)
        let colour = isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        writeOut(json ? Report.json(diagnosis) : Report.text(diagnosis, colour: colour), to: STDOUT_FILENO)
        if !diagnosis.loginWouldSucceed { throw ExitCode.failure }
    }

    static func executablePath() -> String {
        guard let path = realpath("/proc/self/exe", nil) else { return CommandLine.arguments[0] }
        defer { free(path) }
        return String(cString: path)
    }
}
