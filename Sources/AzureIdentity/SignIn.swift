import FoundationEssentials
import JSONInput

/// A person's Azure AD sign-in made with `docker-credential-acr login`: the refresh token Azure AD gave
/// the public client, and what is needed to redeem it again. It lives as long as Azure AD honours the
/// refresh token (90 days without use, or until the sessions are revoked), so ACR tokens can be derived
/// silently long after the three hours an ACR refresh token lives.
public struct SignIn: Sendable, Equatable, Codable {
    public var refreshToken: String
    /// The user's tenant (`tid`), where refreshes go.
    public var tenant: String
    /// The public client the refresh token was issued to; Azure AD redeems it for that client only.
    public var clientID: String
    /// The user's object id (`oid`): tells people apart in cache keys.
    public var objectID: String
    /// `preferred_username`, for messages.
    public var username: String
    /// With a trailing slash; the key under which the sign-in is kept.
    public var authorityHost: String

    public init(refreshToken: String, tenant: String, clientID: String, objectID: String, username: String, authorityHost: String) {
        self.refreshToken = refreshToken
        self.tenant = tenant
        self.clientID = clientID
        self.objectID = objectID
        self.username = username
        self.authorityHost = authorityHost
    }

    /// How long Azure AD keeps an unused refresh token of a public client.
    public static let inactivityLifetime: Int64 = 90 * 24 * 3600

    /// The whole record as one string, for a keyring item's secret.
    public var encoded: String {
        (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    public init?(encoded: String) {
        guard let record = try? JSONInput.decode(SignIn.self, from: encoded.utf8) else { return nil }
        self = record
    }
}

/// Where the sign-ins are kept (the helper's credential store); the resolver asks it only when it gets to
/// the signed-in user, so a machine with a service principal never reads it.
public protocol SignInKeeper {
    func signIn(authorityHost: String) throws(AzureIdentityError) -> SignIn?
}
