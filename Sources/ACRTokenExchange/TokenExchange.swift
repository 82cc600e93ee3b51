import AzureIdentity
import FoundationEssentials
import HTTPTransport

/// ACR's `/oauth2/exchange`: an Azure AD access token in, an ACR refresh token out.
public struct TokenExchange: Sendable {
    /// ACR refresh tokens live three hours; used when a token carries no `exp`.
    public static let refreshTokenLifetime: Int64 = 3 * 3600

    public let server: LoginServer
    public let baseURL: String

    public init(server: LoginServer, baseURL: String) {
        self.server = server
        self.baseURL = baseURL
    }

    public func refreshToken(
        for token: AzureADToken, tenant: String, context: IdentityContext
    ) async throws(ACRError) -> (token: String, expiresOn: Int64) {
        let request = HTTPRequest.form(baseURL + "/oauth2/exchange", [
            ("grant_type", "access_token"), ("service", server.name), ("tenant", tenant),
            ("access_token", token.accessToken),
        ])
        let response: HTTPResponse
        do {
            response = try await context.budget.send(request, via: context.transport)
        } catch {
            throw .network(server, error)
        }
        let body = Data(response.body)
        switch response.status {
        case 200:
            guard let answer = try? JSONDecoder().decode(Answer.self, from: body) else {
                throw .malformedAnswer(server, "not JSON")
            }
            guard let refresh = answer.refresh_token, !refresh.isEmpty else {
                throw .malformedAnswer(server, "no refresh_token")
            }
            let now = context.now()
            let expiresOn = JWT(refresh)?.expiresOn ?? now + Self.refreshTokenLifetime
            guard expiresOn > now else { throw .malformedAnswer(server, "the refresh token has already expired") }
            return (refresh, expiresOn)
        case 403 where RegistryErrors.firewallIP(in: body) != nil || RegistryErrors.code(in: body) == "DENIED":
            throw .firewall(server, clientIP: RegistryErrors.firewallIP(in: body))
        case 404:
            throw .registryNotFound(server)
        case 429, 500...599:
            throw .unavailable(server, status: response.status)
        default:
            throw .exchangeRefused(server, status: response.status, message: RegistryErrors.message(in: body) ?? "no message")
        }
    }

    private struct Answer: Decodable {
        var refresh_token: String?
    }
}

/// ACR's error bodies: `{"errors":[{"code":"DENIED","message":"…"}]}`.
enum RegistryErrors {
    private struct Body: Decodable {
        struct Entry: Decodable {
            var code: String?
            var message: String?
        }
        var errors: [Entry]?
    }

    static func code(in body: Data) -> String? {
        (try? JSONDecoder().decode(Body.self, from: body))?.errors?.first?.code
    }

    static func message(in body: Data) -> String? {
        (try? JSONDecoder().decode(Body.self, from: body))?.errors?.first?.message
    }

    /// "client with IP '203.0.113.7' is not allowed access" → 203.0.113.7
    static func firewallIP(in body: Data) -> String? {
        guard let message = message(in: body), let start = message.firstRange(of: "client with IP '") else { return nil }
        let rest = message[start.upperBound...]
        return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
    }
}
