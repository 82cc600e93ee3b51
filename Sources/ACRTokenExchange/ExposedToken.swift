import AzureIdentity
import DockerCredentialProtocol

/// ACR refresh tokens that users paste in, as `az acr login --expose-token` prints them.
public enum ExposedToken {
    /// Whether `secret` is an ACR refresh token (a JWT issued by "Azure Container Registry" for the
    /// refresh-token grant).
    public static func isACRRefreshToken(_ secret: String) -> Bool {
        guard let claims = JWT(secret) else { return false }
        return claims.string("iss") == "Azure Container Registry" && claims.string("grant_type") == "refresh_token"
    }

    /// ACR accepts its tokens only with the user 00000000-…; a token stored under any other name would
    /// fail at login, so it is stored under that user. Returns whether the user was replaced.
    public static func substitutingUser(_ credential: Credential) -> (Credential, replaced: Bool) {
        guard credential.username != LoginServer.tokenUsername, credential.username != Credential.identityTokenUsername,
              isACRRefreshToken(credential.secret)
        else { return (credential, false) }
        var fixed = credential
        fixed.username = LoginServer.tokenUsername
        return (fixed, true)
    }
}
