import ACRTokenExchange
import ArgumentParser
import DockerCredentialProtocol
import ErrorExplanation
import HelperWiring
#if canImport(Glibc)
import Glibc
#endif

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
            let authority = try PersonalSignIn(credentials: credentials, server: server).authorityHost()
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
    struct NotARegistry: ExplainedError {
        let given: String
        var cause: String { "\(given) is not an Azure Container Registry login server" }
        var fix: String? { "name one as NAME.azurecr.io, .azurecr.cn or .azurecr.us" }
    }

    static func loginServer(_ given: String, _ credentials: RegistryCredentials) throws -> LoginServer {
        guard let server = credentials.loginServer(try ServerAddress(given)) else { throw NotARegistry(given: given) }
        return server
    }
}
