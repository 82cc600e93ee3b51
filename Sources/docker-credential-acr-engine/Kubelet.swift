import ArgumentParser
import DockerCredentialProtocol
import HelperWiring
import KubeletCredentialProvider
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

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
            let response = try await CredentialProviderResponse.answer(request, credentials: try Wiring(connection: .live).registryCredentials())
            Output.write(response.json, to: STDOUT_FILENO)
        }
    }
}
