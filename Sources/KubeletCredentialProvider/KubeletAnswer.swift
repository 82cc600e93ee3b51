import ACRTokenExchange
import AzureIdentity
import DockerCredentialProtocol

/// How tokens derived from pods' service-account tokens are kept, as the provider config's
/// `tokenAttributes.cacheType` says the kubelet keeps the answers: per service account, or per token.
public enum ServiceAccountCacheType: String, CaseIterable, Sendable {
    case serviceAccount = "ServiceAccount"
    case token = "Token"
}

/// `--registry-mirror SOURCE:TARGET` (cloud-provider-azure's form): images of SOURCE are pulled from the
/// ACR TARGET (a containerd mirror), so the kubelet needs TARGET's credentials, keyed for SOURCE.
public struct RegistryMirrors: Sendable, Equatable {
    let targets: [String: String]

    public static let none = RegistryMirrors(targets: [:])

    private init(targets: [String: String]) { self.targets = targets }

    public init(_ mappings: [String]) throws(KubeletPluginError) {
        var targets: [String: String] = [:]
        for mapping in mappings {
            let parts = mapping.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .badMirror(mapping) }
            targets[parts[0].lowercased()] = parts[1].lowercased()
        }
        self.targets = targets
    }

    /// The registry whose credentials an image of `registry` needs.
    func target(of registry: String) -> String { targets[registry] ?? registry }
}

extension CredentialProviderResponse {
    /// The service-account annotations that name the pod's app registration: cloud-provider-azure's, then
    /// the workload-identity webhook's.
    public static let clientIDAnnotations = ["kubernetes.azure.com/acr-client-id", "azure.workload.identity/client-id"]
    public static let tenantIDAnnotations = ["kubernetes.azure.com/acr-tenant-id", "azure.workload.identity/tenant-id"]

    /// The answer to `request`: for an image on an ACR login server, what `get` would answer for its
    /// registry (the same resolution) or, when the kubelet sent the pod's service-account token, what that
    /// token redeems for (KEP-4412), cached until the helper would renew the token (`RenewalRule`); for
    /// any other image, no credential. Throws what made the resolution fail.
    public static func answer(
        _ request: CredentialProviderRequest, credentials: RegistryCredentials, cacheType: ServiceAccountCacheType = .serviceAccount,
        mirrors: RegistryMirrors = .none
    ) async throws -> CredentialProviderResponse {
        let address = try ServerAddress(mirrors.target(of: request.registry))
        guard let server = credentials.loginServer(address) else { return .empty(apiVersion: request.apiVersion) }
        let found: Resolution?
        if let token = request.serviceAccountToken {
            let (source, account) = try podIdentity(token, request.serviceAccountAnnotations, cacheType, credentials.resolver, server)
            found = try await credentials.resolver.resolve(server, using: source, because: "the pod's service account \(account) (KEP-4412)")
        } else {
            found = try await credentials.resolution(for: address)
        }
        guard let resolution = found, let credential = try resolution.credential(serverURL: address.original) else {
            return .empty(apiVersion: request.apiVersion)
        }
        let expiresOn: Int64? = switch resolution.answer {
        case .derived(let token): token.expiresOn
        default: JWT(credential.secret)?.expiresOn
        }
        // Kept by the kubelet until the helper would renew it.
        let rule = credentials.configuration.refreshRule(for: server)
        let remaining = expiresOn.map { rule.renewal(of: credential.secret, expiresOn: $0) - credentials.now() }
        // The kubelet sends what it gets as Basic auth; ACR takes a refresh token only with this user.
        let username = credential.username == Credential.identityTokenUsername ? LoginServer.tokenUsername : credential.username
        // Keyed as the image spells its host: the kubelet matches keys case-sensitively.
        return CredentialProviderResponse(
            apiVersion: request.apiVersion, registry: request.host, username: username,
            password: credential.secret, cacheSeconds: remaining.map { max(0, $0) })
    }

    /// The pod's own identity: its service-account token as the client assertion of the app its
    /// annotations name, in their tenant (else the node's `AZURE_TENANT_ID`).
    private static func podIdentity(
        _ token: String, _ annotations: [String: String], _ cacheType: ServiceAccountCacheType,
        _ resolver: CredentialResolver, _ server: LoginServer
    ) throws -> (ClientCredentialsSource, String) {
        func annotation(_ keys: [String]) -> String? { keys.lazy.compactMap { annotations[$0] }.first { !$0.isEmpty } }
        guard let clientID = annotation(clientIDAnnotations) else { throw KubeletPluginError.missingAnnotation(clientIDAnnotations) }
        guard let tenant = annotation(tenantIDAnnotations) ?? resolver.environment["AZURE_TENANT_ID"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw KubeletPluginError.missingAnnotation(tenantIDAnnotations)
        }
        let authority = try IdentityResolver(environment: resolver.environment, cloud: server.cloud, isAzureVM: false).authorityHost()
        let source = ClientCredentialsSource(
            tenantID: tenant, clientID: clientID, proof: .serviceAccountToken(token, perToken: cacheType == .token), authorityHost: authority)
        return (source, JWT(token)?.string("sub") ?? "of the request")
    }
}
