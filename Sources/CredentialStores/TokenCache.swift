import DockerCredentialProtocol

/// A token the helper derived, kept with its expiry so that it is reused until close to it.
public struct CachedToken: Codable, Equatable, Sendable {
    public var token: String
    /// Seconds since 1970.
    public var expiresOn: Int64
    /// A salted fingerprint of the secret the token was derived with (a client secret, a certificate), so
    /// that a changed secret is noticed; nil for identities without one.
    public var proof: String?

    public init(token: String, expiresOn: Int64, proof: String? = nil) {
        self.token = token
        self.expiresOn = expiresOn
        self.proof = proof
    }
}

/// When a cached token is served, renewed, or given up: the one rule for Azure AD and ACR tokens alike.
public struct RenewalRule: Sendable, Equatable {
    /// A token with less life left than this is renewed.
    public var margin: Int64
    /// A token with less than this share of its life left (from `iat` to `exp`) is renewed too, so that
    /// one handed out outlives a long build that keeps it (BuildKit); 0: the margin alone.
    public var lifeShare: Double

    /// Less than this left, a token may expire on its way to the registry: not worth serving even when
    /// renewing it fails.
    public static let shortestUsableLife: Int64 = 30

    public enum Verdict: Sendable, Equatable {
        /// Serve it.
        case fresh
        /// Renew it; serve it only if renewing fails.
        case due
        /// Renew it; never serve it.
        case spent
    }

    public init(margin: Int64, lifeShare: Double = 0) {
        self.margin = margin
        self.lifeShare = lifeShare
    }

    /// When a token issued at `issuedAt` (if known) and expiring at `expiresOn` stops being fresh.
    public func renewal(expiresOn: Int64, issuedAt: Int64?) -> Int64 {
        let share = issuedAt.map { Int64(Double(max(0, expiresOn - $0)) * lifeShare) } ?? 0
        return expiresOn - max(margin, share)
    }

    public func verdict(_ expiresOn: Int64, issuedAt: Int64? = nil, now: Int64) -> Verdict {
        if now < renewal(expiresOn: expiresOn, issuedAt: issuedAt) { return .fresh }
        return expiresOn - now > Self.shortestUsableLife ? .due : .spent
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
        /// A note that an identity source was found missing (IMDS silent, `az` logged out), so that the
        /// next `get`s skip it for a while instead of asking again.
        case unavailableSource = "source-unavailable"
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
    /// Readies the store for a save soon to come, so that the save itself is one call (best effort).
    func prepareToSave()
    /// Asks at once for what the reads to come will ask one after the other (best effort): the credential
    /// stored for `server`, the tokens under `tokens`. Each read then finds its answer waiting, once.
    func readAhead(credentialFor server: ServerAddress?, tokens: [TokenKey])
}

extension TokenCache {
    public func prepareToSave() {}
    public func readAhead(credentialFor server: ServerAddress?, tokens: [TokenKey]) {}
}

/// A store that holds both; what the helper's commands are given.
public typealias CredentialAndTokenStore = CredentialStore & TokenCache

extension CachedToken {
    /// As one process hands it to another (a renewal's holder to those waiting for it, a front to its
    /// engine): its key on a line, then the token as a keyring item keeps it (`encoded`); empty (nothing)
    /// if either holds a line break.
    public func handoff(for key: TokenKey) -> [UInt8] {
        let text = key.id + "\n" + encoded
        guard text.utf8.count(where: { $0 == UInt8(ascii: "\n") }) == 1 else { return [] }
        return Array(text.utf8)
    }

    /// The token handed over, if it is the one under `key`.
    public init?(handoff: [UInt8], for key: TokenKey) {
        let text = String(decoding: handoff, as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n"), text[..<newline] == key.id,
              let token = CachedToken(encoded: String(text[text.index(after: newline)...])), !token.token.isEmpty
        else { return nil }
        self = token
    }
}
