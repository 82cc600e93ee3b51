import DockerCredentialProtocol

/// A store opened at its first use, with what opening it threw kept for every later use. A `get` that
/// waits for another process's renewal then connects to the keyring only once it stops waiting: 31
/// connections opened at once delayed the renewing process's own calls by 30–50 ms.
public final class DeferredStore: CredentialStore, TokenCache {
    private let open: () throws -> any CredentialAndTokenStore
    private var opened: Result<any CredentialAndTokenStore, any Error>?

    public init(_ open: @escaping () throws -> any CredentialAndTokenStore) {
        self.open = open
    }

    private func store() throws -> any CredentialAndTokenStore {
        if opened == nil { opened = Result { try open() } }
        return try opened!.get()
    }

    public func credential(for server: ServerAddress) async throws -> Credential? { try await store().credential(for: server) }
    public func save(_ credential: Credential, for server: ServerAddress) throws { try store().save(credential, for: server) }
    public func remove(_ server: ServerAddress) throws -> Bool { try store().remove(server) }
    public func allUsernames() throws -> [String: String] { try store().allUsernames() }

    public func cachedToken(for key: TokenKey) throws -> CachedToken? { try store().cachedToken(for: key) }
    public func saveToken(_ token: CachedToken, for key: TokenKey) throws { try store().saveToken(token, for: key) }
    public func removeTokens(_ selector: TokenSelector) throws { try store().removeTokens(selector) }
    public func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] { try store().allCachedTokens() }
    public func checkWritable() throws { try store().checkWritable() }
    public func prepareToSave() { (try? store())?.prepareToSave() }
    public func readAhead(credentialFor server: ServerAddress?, tokens: [TokenKey]) {
        (try? store())?.readAhead(credentialFor: server, tokens: tokens)
    }
}
