import ArgumentParser
import HelperWiring

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the helper's name and version (Docker's format), then the commit it was built from.",
        discussion: "Example: docker-credential-acr version")

    func run() async throws {
        try await runProtocolAction(.version)
    }
}
