import ArgumentParser
import FoundationEssentials
import DockerCredentialProtocol
import HelperWiring
import KubeletCredentialProvider
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

extension ServiceAccountCacheType: ExpressibleByArgument {}

struct Kubelet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer the kubelet's image credential provider requests (an exec plugin).",
        discussion: """
            Reads a CredentialProviderRequest from stdin and prints a CredentialProviderResponse: for an \
            ACR image, the credential `get` would answer, for the whole registry (cacheKeyType Registry), \
            cached until the helper would renew the token (half its life, or the refresh margin); for any \
            other image, no credential (cacheDuration 0s). With the pod's service-account token in the request (KEP-4412, the config's \
            tokenAttributes), the token of the app its annotations name (kubernetes.azure.com/acr-client-id, \
            kubernetes.azure.com/acr-tenant-id). See the README for a CredentialProviderConfig.
            Example: echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"myregistry.azurecr.io/app:1"}' | docker-credential-acr kubelet
            """)

    @Option(help: "How the provider config's tokenAttributes.cacheType has the kubelet keep answers: ServiceAccount or Token; tokens derived from service-account tokens are kept the same way.")
    var cacheType: ServiceAccountCacheType = .serviceAccount

    @Option(name: .customLong("registry-mirror"), help: ArgumentHelp(
        "Answer for images of SOURCE with the credentials of the ACR TARGET, keyed for SOURCE (repeatable).",
        valueName: "SOURCE:TARGET"))
    var registryMirrors: [String] = []

    @Option(help: "An AKS node's cloud-provider-azure configuration, read when it exists; the provider config's env wins over it.")
    var azureConfig = AKSNodeConfiguration.defaultPath

    func run() async throws {
        try await reportingFailure("kubelet") {
            let mirrors = try RegistryMirrors(registryMirrors)
            var environment = ProcessInfo.processInfo.environment
            if let node = try AKSNodeConfiguration.read(azureConfig) { environment = node.environment(over: environment) }
            let request = try CredentialProviderRequest(json: StandardInput.read())
            let response = try await CredentialProviderResponse.answer(
                request, credentials: try Wiring(connection: .live, environment: environment).registryCredentials(),
                cacheType: cacheType, mirrors: mirrors)
            Output.write(response.json, to: STDOUT_FILENO)
        }
    }
}
