import ACRTokenExchange
import AzureIdentity
import DockerCredentialProtocol

extension CredentialProviderResponse {
    /// The answer to `request`: for an image on an ACR login server, what `get` would answer for its
    /// registry (the same resolution), cached for the token's remaining life minus the refresh margin; for
    /// any other image, no credential. Throws what made the resolution fail.
    public static func answer(
        _ request: CredentialProviderRequest, credentials: RegistryCredentials
    ) async throws -> CredentialProviderResponse {
        let address = try ServerAddress(request.registry)
        guard let server = credentials.loginServer(address), let resolution = try await credentials.resolution(for: address),
              let credential = try resolution.credential(serverURL: address.original)
        else { return .empty(apiVersion: request.apiVersion) }
        let expiresOn: Int64? = switch resolution.answer {
        case .derived(let token): token.expiresOn
        default: JWT(credential.secret)?.expiresOn
        }
        let remaining = expiresOn.map { $0 - credentials.now() - credentials.configuration.refreshMargin(for: server) }
        // The kubelet sends what it gets as Basic auth; ACR takes a refresh token only with this user.
        let username = credential.username == Credential.identityTokenUsername ? LoginServer.tokenUsername : credential.username
        return CredentialProviderResponse(
            apiVersion: request.apiVersion, registry: request.registry, username: username,
            password: credential.secret, cacheSeconds: remaining.map { max(0, $0) })
    }
}
