import FoundationEssentials
import HTTPTransport
import JSONInput

/// The OIDC token a CI job asks its CI service for, presented to Azure AD as the client assertion of a
/// federated app registration. Asked for anew before every Azure AD request: these tokens live minutes,
/// and one reused after that is refused (AADSTS700024).
public enum CIFederatedToken: Sendable {
    /// GitHub Actions, for a job with `permissions: id-token: write`.
    case githubActions(requestURL: String, requestToken: String)
    /// Azure Pipelines, for a service connection with workload identity federation.
    case azurePipelines(requestURI: String, accessToken: String, serviceConnectionID: String)

    /// The audience Entra's federated credentials expect by default.
    public static let audience = "api://AzureADTokenExchange"

    var kind: IdentityKind {
        switch self {
        case .githubActions: .githubActions
        case .azurePipelines: .azurePipelines
        }
    }

    /// The job's own credential for the CI service: a new job has a new one, so a cached token derived in
    /// another job (another repository on a shared runner) is never served to this one.
    var jobCredential: String {
        switch self {
        case .githubActions(_, let token): token
        case .azurePipelines(_, let token, _): token
        }
    }

    var request: HTTPRequest {
        // The URL GitHub gives already has a query.
        func url(_ base: String, adding query: [(String, String)]) -> String {
            base + (base.contains("?") ? "&" : "?") + FormEncoding.encode(query)
        }
        switch self {
        case .githubActions(let base, let token):
            return HTTPRequest(
                method: .get, url: url(base, adding: [("audience", Self.audience)]),
                headers: [("Authorization", "Bearer \(token)"), ("Accept", "application/json")])
        case .azurePipelines(let uri, let token, let connection):
            return HTTPRequest(
                method: .post, url: url(uri, adding: [("api-version", "7.1"), ("serviceConnectionId", connection)]),
                headers: [
                    ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"),
                    // Otherwise an unauthorised request is redirected to a sign-in page.
                    ("X-TFS-FedAuthRedirect", "Suppress"),
                ])
        }
    }

    /// A fresh OIDC token from the CI service.
    func fetch(context: IdentityContext) async throws(AzureIdentityError) -> String {
        let response: HTTPResponse
        do {
            response = try await context.budget.send(request, via: context.transport)
        } catch {
            throw .network(source: kind.label, error)
        }
        let answer = try? JSONInput.decode(Answer.self, from: response.body)
        if response.status == 200, let token = answer?.value ?? answer?.oidcToken, !token.isEmpty { return token }
        guard response.status != 200 else { throw .unexpectedAnswer(source: kind.label, status: 200) }
        let message = answer?.message ?? answer?.error ?? String(decoding: response.body.prefix(300), as: UTF8.self)
        throw .ciTokenRefused(kind, status: response.status, message: ServerText.clean(message.isEmpty ? "no message" : message))
    }

    /// GitHub answers `{"value": …}`, Azure Pipelines `{"oidcToken": …}`; their errors carry a `message`.
    private struct Answer: Decodable {
        var value: String?
        var oidcToken: String?
        var message: String?
        var error: String?
    }
}
