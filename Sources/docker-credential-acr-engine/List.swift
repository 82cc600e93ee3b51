import ArgumentParser
import HelperWiring

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every stored server URL with its username, as a JSON object.",
        discussion: "Example: docker-credential-acr list")

    func run() async throws {
        try await runProtocolAction(.list)
    }
}
