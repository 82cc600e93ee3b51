import ArgumentParser
import HelperWiring

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
