import ACRTokenExchange
import ArgumentParser
import AzureIdentity
import FoundationEssentials
import HelperWiring
#if canImport(Glibc)
import Glibc
#endif

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
            let session = PersonalSignIn(credentials: credentials, server: server)
            let signIn = try await session.signIn(tenant: tenant, clientID: clientID, connection: .live) { message in
                Output.write(message + "\n", to: STDERR_FILENO)
            }
            Output.write("Signed in as \(signIn.username) (tenant \(signIn.tenant)); `docker-credential-acr logout` forgets it.\n", to: STDOUT_FILENO)
            if let earlier = session.earlierSource() {
                Output.write(
                    "note: \(earlier.kind.label) comes first here (\(earlier.reason)); the sign-in is used where it is not\n",
                    to: STDERR_FILENO)
            }
            guard let server else { return }
            let token = try await session.prove(on: server)
            Output.write(
                "\(server) accepts the sign-in: the helper holds an ACR token until \(Self.clockTime(token.expiresOn)) and renews it from the sign-in\n",
                to: STDOUT_FILENO)
        }
    }

    /// "14:05 UTC".
    static func clockTime(_ seconds: Int64) -> String {
        let time = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601.time(includingFractionalSeconds: false))
        return String(time.prefix(5)) + " UTC"
    }
}
