import ACRTokenExchange
import ArgumentParser
import AzureIdentity
import CertificateAssertion
import Diagnostics
import DockerConfiguration
import DockerCredentialProtocol
import FoundationEssentials
import HTTPClientTransport
import HTTPTransport
import HelperWiring
import KubeletCredentialProvider
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

@main
struct DockerCredentialACR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker-credential-acr",
        abstract: "Docker credential helper for Azure Container Registry and every other registry.",
        discussion: """
            Docker runs this helper when ~/.docker/config.json says "credsStore": "acr". It keeps the \
            credentials of every registry in the Secret Service keyring, or in a private file where no \
            keyring answers. For Azure Container Registry login servers (*.azurecr.io, .azurecr.cn, \
            .azurecr.us) it derives tokens from the machine's Azure identity, or from your own sign-in \
            (`login`), and caches them.

            Store: DOCKER_CREDENTIAL_ACR_STORE=secretservice|file|auto (default auto: the \
            keyring when one answers on the session bus, else \
            $XDG_DATA_HOME/docker-credential-acr/credentials.json).

            Exit status: 0 on success, 1 when the action failed (one line on stdout says why), \
            64 for a usage error.
            """,
        version: HelperVersion.description.trimmingCharacters(in: .newlines),
        subcommands: [
            Store.self, Get.self, Erase.self, List.self, Version.self, Import.self, Login.self, Logout.self, Diagnose.self,
            Kubelet.self, Configure.self,
        ]
    )

    /// The protocol actions that docker-credential-acr hands over skip the argument parser: its first
    /// dynamic casts scan every protocol conformance in this large static binary, about 21 million
    /// instructions (callgrind). Anything else, including `--help` and usage errors, goes through it.
    static func main() async {
        ProcessHardening.forbidDumps()
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Docker always names an action; without one, this is a usage error as in Docker's own helpers,
        // not a request for help (`--help` is one).
        if arguments.isEmpty {
            Output.write("Usage: \(HelperVersion.name) <subcommand>\n  See '\(HelperVersion.name) --help' for more information.\n", to: STDERR_FILENO)
            Glibc.exit(64)
        }
        if arguments.count == 1, let action = ProtocolAction(rawValue: arguments[0]) {
            Glibc.exit(await status(of: action))
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
                Output.write(fullMessage(for: error) + "\n", to: STDERR_FILENO)
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

extension AzureConnection {
    /// The real thing: AsyncHTTPClient and swift-crypto.
    static let live = AzureConnection(transport: AsyncHTTPTransport(), signer: CertificateAssertionSigner())
}

/// Runs a protocol action as Docker runs it, reading its input from stdin; returns the exit status.
func status(of action: ProtocolAction) async -> Int32 {
    let input = action.readsInput ? StandardInput.read() : []
    // With a connection, NetworkNeeded is never thrown.
    return (try? await action.run(input: input, wiring: Wiring(connection: .live))) ?? 1
}

/// Runs a subcommand's work; a failure is one line on stderr that names the subcommand, and exit status 1.
func reportingFailure(_ subcommand: String, _ work: () async throws -> Void) async throws {
    do {
        try await work()
    } catch {
        Output.write("docker-credential-acr \(subcommand): \(error)\n", to: STDERR_FILENO)
        throw ExitCode.failure
    }
}

func runProtocolAction(_ action: ProtocolAction) async throws {
    let status = await status(of: action)
    if status != 0 { throw ExitCode(status) }
}

struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save the credential Docker sends on stdin.",
        discussion: #"""
            Reads {"ServerURL":"…","Username":"…","Secret":"…"} from stdin. An ACR token (as printed by \
            `az acr login --expose-token`) stored under any user name is stored under \
            00000000-0000-0000-0000-000000000000, the only user ACR accepts with it.
            Example: echo '{"ServerURL":"registry.example.com","Username":"me","Secret":"…"}' | docker-credential-acr store
            """#)

    func run() async throws {
        try await runProtocolAction(.store)
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
        try await runProtocolAction(.get)
    }
}

struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the credential for the server URL on stdin (and an ACR server's cached tokens).",
        discussion: "Example: echo registry.example.com | docker-credential-acr erase")

    func run() async throws {
        try await runProtocolAction(.erase)
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every stored server URL with its username, as a JSON object.",
        discussion: "Example: docker-credential-acr list")

    func run() async throws {
        try await runProtocolAction(.list)
    }
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the helper's name and version (Docker's format), then the commit it was built from.",
        discussion: "Example: docker-credential-acr version")

    func run() async throws {
        try await runProtocolAction(.version)
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
        do {
            let credential = try ExposedTokenImport.parse(StandardInput.read())
            try Wiring(connection: nil).registryCredentials().store.save(credential, for: ServerAddress(credential.serverURL))
        } catch {
            Output.write("\(error)\n", to: STDOUT_FILENO)
            Output.write("docker-credential-acr: \(error)\n", to: STDERR_FILENO)
            throw ExitCode.failure
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
            environment: environment, connection: .live, now: { Int64(Date().timeIntervalSince1970) },
            executable: Self.frontPath())
        let diagnosis = await diagnostician.diagnose(registries, pull: pull, push: push)
        let colour = isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        Output.write(json ? Report.json(diagnosis) : Report.text(diagnosis, colour: colour), to: STDOUT_FILENO)
        if !diagnosis.loginWouldSucceed { throw ExitCode.failure }
    }

    /// docker-credential-acr, which runs this engine with its own path as argv[0]; this binary when run
    /// by itself.
    static func frontPath() -> String {
        guard let path = realpath(CommandLine.arguments[0], nil) ?? realpath("/proc/self/exe", nil) else {
            return CommandLine.arguments[0]
        }
        defer { free(path) }
        return String(cString: path)
    }
}

struct Kubelet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer the kubelet's image credential provider requests (an exec plugin).",
        discussion: """
            Reads a CredentialProviderRequest from stdin and prints a CredentialProviderResponse: for an \
            ACR image, the credential `get` would answer, for the whole registry (cacheKeyType Registry), \
            cached for the token's remaining life minus the refresh margin; for any other image, no \
            credential. See the README for a CredentialProviderConfig.
            Example: echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"myregistry.azurecr.io/app:1"}' | docker-credential-acr kubelet
            """)

    func run() async throws {
        try await reportingFailure("kubelet") {
            let request = try CredentialProviderRequest(json: StandardInput.read())
            let credentials = try Wiring(connection: .live).registryCredentials()
            let address = try ServerAddress(request.registry)
            guard let server = credentials.loginServer(address), let credential = try await credentials.credential(for: address)
            else {
                Output.write(CredentialProviderResponse.empty(apiVersion: request.apiVersion).json, to: STDOUT_FILENO)
                return
            }
            let remaining = JWT(credential.secret)?.expiresOn.map {
                $0 - credentials.now() - credentials.configuration.refreshMargin(for: server)
            }
            // The kubelet sends what it gets as Basic auth; ACR takes a refresh token only with this user.
            let username = credential.username == Credential.identityTokenUsername ? LoginServer.tokenUsername : credential.username
            Output.write(CredentialProviderResponse(
                apiVersion: request.apiVersion, registry: request.registry, username: username,
                password: credential.secret, cacheSeconds: remaining.map { max(0, $0) }).json, to: STDOUT_FILENO)
        }
    }
}

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

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in to Azure AD as yourself with a code (no browser here, no Azure CLI needed).",
        discussion: """
            Prints a code and a web page to enter it on, on any device, and waits until you have signed in. \
            The sign-in's refresh token is kept in the keyring; ACR tokens are then derived from it silently, \
            for every registry in the cloud, until Azure AD ends it (90 days unused, a password change, or \
            revoked sessions). Identities configured in the environment (service principal, workload or managed \
            identity) come first; the Azure CLI comes after. With a REGISTRY, the registry's cloud is used and \
            the registry is asked for a token at once, to show that the sign-in works there.

            Examples:
              docker-credential-acr login myregistry.azurecr.io
              docker-credential-acr login --tenant contoso.onmicrosoft.com
            """)

    @Option(help: ArgumentHelp("The tenant to sign in to, an id or a domain; organizations: your home tenant.", valueName: "tenant"))
    var tenant = DeviceCodeFlow.anyOrganization

    @Option(help: ArgumentHelp("The public client application to sign in with; by default the Azure CLI's.", valueName: "id"))
    var clientID = DeviceCodeFlow.azureCLIClientID

    @Argument(help: "A login server to use the sign-in for (its cloud), checked at once.")
    var registry: String?

    func run() async throws {
        try await reportingFailure("login") {
            let credentials = try Wiring(connection: .live).registryCredentials()
            let server = try registry.map { try SignInTarget.loginServer($0, credentials) }
            // A sign-in that could not be kept would have to be repeated: find out before asking for one.
            try credentials.store.checkWritable()
            let resolver = SignInTarget.resolver(server, credentials)
            let flow = DeviceCodeFlow(authorityHost: try resolver.authorityHost(), tenant: tenant, clientID: clientID)
            let timeout = credentials.configuration.timeout
            let prompt = try await flow.start(context: IdentityContext(connection: .live, budget: RequestBudget(total: timeout), now: credentials.now))
            Output.write(prompt.message + "\n", to: STDERR_FILENO)
            let (signIn, _) = try await flow.waitForApproval(prompt, connection: .live, requestTimeout: timeout, now: credentials.now)
            try credentials.signIns.save(signIn)
            Output.write("Signed in as \(signIn.username) (tenant \(signIn.tenant)); `docker-credential-acr logout` forgets it.\n", to: STDOUT_FILENO)

            let settings = server.flatMap { credentials.configuration.registries[$0.name]?.identity } ?? IdentitySettings()
            if let used = try resolver.candidates(settings).last, used.source != nil, used.kind != .signedInUser {
                Output.write(
                    "note: \(used.kind.label) comes first here (\(used.reason)); the sign-in is used where it is not\n",
                    to: STDERR_FILENO)
            }
            guard let server else { return }
            let token = try await credentials.refreshToken(for: server, source: SignedInUserSource(signIn: signIn), settings: settings)
            let expiry = JWT(token)?.expiresOn.map { " until \(Self.clockTime($0))" } ?? ""
            Output.write("\(server) accepts the sign-in: the helper holds an ACR token\(expiry) and renews it from the sign-in\n", to: STDOUT_FILENO)
        }
    }

    /// "14:05 UTC".
    static func clockTime(_ seconds: Int64) -> String {
        let time = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601.time(includingFractionalSeconds: false))
        return String(time.prefix(5)) + " UTC"
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forget the sign-in of `login`, and every token derived from it.",
        discussion: """
            Removes the sign-in's refresh token and the Azure AD and ACR tokens derived from it from the store. \
            Azure AD has no way to revoke one refresh token: to end the session everywhere, use "Sign out \
            everywhere" at https://myaccount.microsoft.com. Credentials stored with `docker login` stay.

            Example: docker-credential-acr logout
            """)

    @Argument(help: "A login server whose cloud's sign-in to forget (default: Azure's public cloud).")
    var registry: String?

    func run() async throws {
        try await reportingFailure("logout") {
            let credentials = try Wiring(connection: nil).registryCredentials()
            let server = try registry.map { try SignInTarget.loginServer($0, credentials) }
            let authority = try SignInTarget.resolver(server, credentials).authorityHost()
            if let signIn = try credentials.signIns.remove(authorityHost: authority) {
                Output.write("Signed out \(signIn.username); its tokens are removed from this machine.\n", to: STDOUT_FILENO)
            } else {
                Output.write("Not signed in (\(authority)); nothing to forget.\n", to: STDOUT_FILENO)
            }
        }
    }
}

/// What `login` and `logout` share: the registry named on the command line, and its cloud's Azure AD.
enum SignInTarget {
    struct NotARegistry: Error, CustomStringConvertible {
        let given: String
        var description: String {
            "\(given) is not an Azure Container Registry login server (NAME.azurecr.io, .azurecr.cn or .azurecr.us)"
        }
    }

    static func loginServer(_ given: String, _ credentials: RegistryCredentials) throws -> LoginServer {
        guard let server = credentials.loginServer(try ServerAddress(given)) else { throw NotARegistry(given: given) }
        return server
    }

    static func resolver(_ server: LoginServer?, _ credentials: RegistryCredentials) -> IdentityResolver {
        IdentityResolver(
            environment: credentials.environment, cloud: server?.cloud ?? .azurePublic, signIns: credentials.signIns)
    }
}
