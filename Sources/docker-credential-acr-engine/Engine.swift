import ACRTokenExchange
import ArgumentParser
import AzureIdentity
import CertificateAssertion
import CredentialStores
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

            Environment: DOCKER_CREDENTIAL_ACR_STORE, DOCKER_CREDENTIAL_ACR_CONFIG (the configuration \
            file), DOCKER_CREDENTIAL_ACR_ENDPOINTS, DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES, DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT, \
            DOCKER_CREDENTIAL_ACR_DEBUG=1; the identity sources' AZURE_TENANT_ID, AZURE_CLIENT_ID, \
            AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_CLIENT_CERTIFICATE_PASSWORD, \
            AZURE_CLIENT_SEND_CERTIFICATE_CHAIN, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST, \
            ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN (GitHub Actions), SYSTEM_OIDCREQUESTURI, \
            SYSTEM_ACCESSTOKEN and AZURESUBSCRIPTION_* (Azure Pipelines), IDENTITY_ENDPOINT, \
            IDENTITY_HEADER, IDENTITY_SERVER_THUMBPRINT, IMDS_ENDPOINT, MSI_ENDPOINT, MSI_SECRET \
            (managed identities), AZURE_CONFIG_DIR (the Azure CLI); HTTPS_PROXY, HTTP_PROXY, NO_PROXY, \
            SSL_CERT_FILE, SSL_CERT_DIR; XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME, XDG_RUNTIME_DIR.

            Files: $XDG_CONFIG_HOME/docker-credential-acr/config.json (settings), \
            $XDG_DATA_HOME/docker-credential-acr/credentials.json and tokens.json (the file store), \
            $XDG_STATE_HOME/docker-credential-acr/log, $XDG_RUNTIME_DIR/docker-credential-acr/ (locks), \
            ~/.docker/config.json (Docker's, edited by configure), /etc/kubernetes/azure.json (kubelet).
            """,
        version: String(HelperVersion.description.reversed().drop(while: \.isNewline).reversed()),
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
        // The commands that reach Azure in nearly every run load libcurl while they read the stores.
        if arguments == ["get"] || arguments.first == "kubelet" { CurlTransport.preload() }
        FileLock.takeHandedOver()
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
    /// libcurl, and OpenSSL for certificate identities.
    static let live = AzureConnection.curl(environment: ProcessInfo.processInfo.environment, signer: CertificateAssertionSigner())
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
