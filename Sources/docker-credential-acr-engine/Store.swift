import ArgumentParser
import HelperWiring

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
