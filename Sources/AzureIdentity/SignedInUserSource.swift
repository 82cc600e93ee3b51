import HTTPTransport

/// A person signed in with `docker-credential-acr login`: Azure AD's refresh-token grant for the public
/// client the sign-in used. Azure AD answers with a new refresh token each time, which the caller keeps
/// (`AzureADToken.renewedSignIn`), so the sign-in lasts while it is used.
public struct SignedInUserSource: IdentitySource {
    public let signIn: SignIn

    public init(signIn: SignIn) {
        self.signIn = signIn
    }

    /// The resource's scope, a refresh token (offline_access) and the person's name in an ID token (openid profile).
    static func scope(for resource: String = ContainerRegistryResource.resource) -> String {
        resource + "/.default offline_access openid profile"
    }

    public var kind: IdentityKind { .signedInUser }
    public var cacheIdentity: String { "signed-in-user:\(signIn.tenant):\(signIn.objectID)" }
    public var tenant: String? { signIn.tenant }

    public func token(resource: String, context: IdentityContext) async throws(AzureIdentityError) -> AzureADToken {
        let url = signIn.authorityHost + FormEncoding.escape(signIn.tenant) + "/oauth2/v2.0/token"
        let fields = [
            ("grant_type", "refresh_token"), ("client_id", signIn.clientID), ("refresh_token", signIn.refreshToken),
            ("scope", Self.scope(for: resource)),
        ]
        let response: HTTPResponse
        do {
            response = try await context.budget.send(.form(url, fields), via: context.transport)
        } catch {
            throw .network(source: kind.label, error)
        }
        let grant = try AzureADAnswer.grant(from: response, source: kind.label, now: context.now())
        var token = grant.token
        if let renewed = grant.refreshToken {
            var signIn = signIn
            signIn.refreshToken = renewed
            token.renewedSignIn = signIn
        }
        return token
    }
}
