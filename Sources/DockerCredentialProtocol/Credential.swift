/// One registry login as Docker hands it over on `store` and expects it back from `get`.
///
/// `username` is `<token>` for an identity token (an OAuth2 refresh token that Docker exchanges itself);
/// it is kept and returned unchanged.
public struct Credential: Equatable, Sendable {
    /// The server URL exactly as Docker wrote it (`https://index.docker.io/v1/`, `myreg.azurecr.io`, …).
    public var serverURL: String
    public var username: String
    public var secret: String

    public init(serverURL: String, username: String, secret: String) {
        self.serverURL = serverURL
        self.username = username
        self.secret = secret
    }

    /// The username Docker uses for identity tokens.
    public static let identityTokenUsername = "<token>"
}
