import ACRTokenExchange
import ArgumentParser
import DockerCredentialProtocol
import HelperWiring
#if canImport(Glibc)
import Glibc
#endif

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
