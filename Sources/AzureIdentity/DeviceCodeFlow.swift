import FoundationEssentials
import HTTPTransport
import JSONInput

/// Azure AD's device authorization grant (`/oauth2/v2.0/devicecode`): a person opens a page on any
/// device and types a short code while the helper polls the token endpoint. It needs no browser on this
/// machine and no Azure CLI, and it yields a refresh token that `SignedInUserSource` redeems later.
public struct DeviceCodeFlow: Sendable {
    /// The Azure CLI's public client, which the Azure SDKs also use for a developer's sign-in: every
    /// tenant knows it, and it may ask for ACR's scope.
    public static let azureCLIClientID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    /// Tenant-independent: the tokens then come from the person's home tenant.
    public static let anyOrganization = "organizations"

    /// With a trailing slash.
    public let authorityHost: String
    public let tenant: String
    public let clientID: String

    public init(authorityHost: String, tenant: String = DeviceCodeFlow.anyOrganization, clientID: String = DeviceCodeFlow.azureCLIClientID) {
        self.authorityHost = authorityHost.hasSuffix("/") ? authorityHost : authorityHost + "/"
        self.tenant = tenant
        self.clientID = clientID
    }

    /// What the person must do, and what the helper needs to wait for it.
    public struct Prompt: Sendable {
        /// Azure AD's own instructions ("To sign in, use a web browser to open the page … and enter the code …").
        public let message: String
        public let userCode: String
        public let verificationURI: String
        public let expiresAt: ContinuousClock.Instant
        let deviceCode: String
        let interval: Duration
    }

    public func start(context: IdentityContext) async throws(AzureIdentityError) -> Prompt {
        let url = authorityHost + FormEncoding.escape(tenant) + "/oauth2/v2.0/devicecode"
        let response = try await send(
            .form(url, [("client_id", clientID), ("scope", SignedInUserSource.scope())]), context.budget, context.transport)
        struct Answer: Decodable {
            var device_code: String
            var user_code: String
            var verification_uri: String
            var expires_in: FlexibleNumber
            var interval: FlexibleNumber?
            var message: String?
        }
        guard response.status == 200, let answer = try? JSONInput.decode(Answer.self, from: response.body) else {
            throw AzureADAnswer.failure(of: response, source: Self.label)
        }
        return Prompt(
            message: answer.message.map(ServerText.clean)
                ?? "To sign in, use a web browser to open the page \(answer.verification_uri) and enter the code \(answer.user_code) to authenticate.",
            userCode: answer.user_code, verificationURI: answer.verification_uri,
            expiresAt: .now + .seconds(answer.expires_in.value), deviceCode: answer.device_code,
            interval: .seconds(max(1, answer.interval?.value ?? 5)))
    }

    /// Polls until the person has signed in, declined, or the code expired. Each poll has a budget of
    /// `requestTimeout`; the whole wait is bounded by the code's own life.
    public func waitForApproval(
        _ prompt: Prompt, connection: AzureConnection, requestTimeout: Duration, now: @escaping @Sendable () -> Int64
    ) async throws(AzureIdentityError) -> (SignIn, AzureADToken) {
        let url = authorityHost + FormEncoding.escape(tenant) + "/oauth2/v2.0/token"
        let fields = [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("client_id", clientID), ("device_code", prompt.deviceCode)]
        var interval = prompt.interval
        while true {
            try? await Task.sleep(for: interval)
            guard ContinuousClock.now < prompt.expiresAt else { throw .signInCodeExpired }
            let response = try await send(.form(url, fields), RequestBudget(total: requestTimeout), connection.transport)
            do {
                let grant = try AzureADAnswer.grant(from: response, source: Self.label, now: now())
                return try signIn(from: grant)
            } catch {
                guard case .rejected(_, let failure) = error else { throw error }
                switch failure.error {
                case "authorization_pending": continue
                // RFC 8628: slow down by five seconds for this and every later poll.
                case "slow_down": interval += .seconds(5)
                case "authorization_declined": throw .signInDeclined
                case "expired_token": throw .signInCodeExpired
                default: throw error
                }
            }
        }
    }

    private func signIn(from grant: AzureADAnswer.Grant) throws(AzureIdentityError) -> (SignIn, AzureADToken) {
        guard let refreshToken = grant.refreshToken else { throw .signInIncomplete("Azure AD answered without a refresh token (offline_access was not granted)") }
        let accessClaims = JWT(grant.token.accessToken)
        func claim(_ names: String...) -> String? {
            for name in names {
                if let value = grant.idToken?.string(name) ?? accessClaims?.string(name) { return value }
            }
            return nil
        }
        guard let tenant = claim("tid"), let objectID = claim("oid") else {
            throw .signInIncomplete("Azure AD's tokens name no tenant (tid) or user (oid)")
        }
        let signIn = SignIn(
            refreshToken: refreshToken, tenant: tenant, clientID: clientID, objectID: objectID,
            username: claim("preferred_username", "upn", "unique_name") ?? objectID, authorityHost: authorityHost)
        return (signIn, grant.token)
    }

    private func send(
        _ request: HTTPRequest, _ budget: RequestBudget, _ transport: any HTTPTransport
    ) async throws(AzureIdentityError) -> HTTPResponse {
        do {
            return try await budget.send(request, via: transport)
        } catch {
            throw .network(source: Self.label, error)
        }
    }

    static let label = "Azure AD sign-in"
}
