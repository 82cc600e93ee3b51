import DockerCredentialProtocol

/// A token the helper derived, kept with its expiry so that it is reused until close to it.
public struct CachedToken: Codable, Equatable, Sendable {
    public var token: String
    /// Seconds since 1970.
    public var expiresOn: Int64

    public init(token: String, expiresOn: Int64) {
        self.token = token
        self.expiresOn = expiresOn
    }
}

/// Which cached token: its kind, what it is for (a login server, or a tenant and resource), and the
/// identity it was issued to, so that switching identities never serves another identity's token.
public struct TokenKey: Hashable, Sendable {
    public enum Kind: String, Sendable {
        case acrRefreshToken = "acr-refresh-token"
        case azureADToken = "aad-access-token"
        /// A person's Azure AD sign-in (its refresh token), from `docker-credential-acr login`.
        case azureADSignIn = "aad-sign-in"
    }

    public var kind: Kind
    public var scope: String
    public var identity: String

    public init(kind: Kind, scope: String, identity: String) {
        self.kind = kind
        self.scope = scope
        self.identity = identity
    }

    var id: String { "\(kind.rawValue)|\(scope)|\(identity)" }

    init?(kind: String, scope: String, identity: String) {
        guard let kind = Kind(rawValue: kind) else { return nil }
        self.init(kind: kind, scope: scope, identity: identity)
    }
}

/// Which cached tokens to drop.
public enum TokenSelector: Sendable {
    case scope(String)
    case identity(String)

    /// As a keyring attribute.
    var attribute: (name: String, value: String) {
        switch self {
        case .scope(let scope): ("scope", scope)
        case .identity(let identity): ("identity", identity)
        }
    }

    func selects(scope: String, identity: String) -> Bool {
        switch self {
        case .scope(let wanted): scope == wanted
        case .identity(let wanted): identity == wanted
        }
    }
}

/// Derived tokens, kept in the same store as credentials but apart from them: `list` never shows them.
public protocol TokenCache {
    func cachedToken(for key: TokenKey) throws -> CachedToken?
    func saveToken(_ token: CachedToken, for key: TokenKey) throws
    /// Drops every cached token with that scope (for every identity), or of that identity (for every scope).
    func removeTokens(_ selector: TokenSelector) throws
    /// Every cached token, for `diagnose` to show their expiry.
    func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)]
    /// Throws what a save would throw for the store itself (a locked keyring), before work that ends in one.
    func checkWritable() throws
}

/// A store that holds both; what the helper's commands are given.
public typealias CredentialAndTokenStore = CredentialStore & TokenCache
