import ArgumentParser
import HelperWiring

struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the credential for the server URL on stdin (and an ACR server's cached tokens).",
        discussion: "Example: echo registry.example.com | docker-credential-acr erase")

    func run() async throws {
        try await runProtocolAction(.erase)
    }
}
