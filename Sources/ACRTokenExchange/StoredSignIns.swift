import AzureIdentity
import CredentialStores

/// A person's sign-in, kept in the credential store beside the cached tokens (the keyring, or the private
/// file where there is none): one per Azure AD authority, never shown by `list`.
public struct StoredSignIns: SignInKeeper {
    public let cache: any TokenCache
    public let now: @Sendable () -> Int64

    public init(cache: any TokenCache, now: @escaping @Sendable () -> Int64) {
        self.cache = cache
        self.now = now
    }

    private static func key(_ authorityHost: String) -> TokenKey {
        TokenKey(kind: .azureADSignIn, scope: authorityHost, identity: "person")
    }

    public func signIn(authorityHost: String) throws(AzureIdentityError) -> SignIn? {
        let cached: CachedToken?
        do {
            cached = try cache.cachedToken(for: Self.key(authorityHost))
        } catch {
            throw .signInUnreadable("\(error)")
        }
        return cached.flatMap { SignIn(encoded: $0.token) }
    }

    /// Keeps `signIn` in place of the one before.
    public func save(_ signIn: SignIn) throws {
        let entry = Self.entry(signIn, now: now())
        try cache.saveToken(entry.token, for: entry.key)
    }

    /// The cache entry of `signIn`; its expiry is when Azure AD drops an unused refresh token.
    static func entry(_ signIn: SignIn, now: Int64) -> (key: TokenKey, token: CachedToken) {
        (key(signIn.authorityHost), CachedToken(token: signIn.encoded, expiresOn: now + SignIn.inactivityLifetime))
    }

    /// Forgets the sign-in and every token derived from it; nil when there was none.
    public func remove(authorityHost: String) throws -> SignIn? {
        guard let signIn = try signIn(authorityHost: authorityHost) else { return nil }
        try cache.removeTokens(.identity(SignedInUserSource(signIn: signIn).cacheIdentity))
        try cache.removeTokens(.scope(authorityHost))
        return signIn
    }
}
