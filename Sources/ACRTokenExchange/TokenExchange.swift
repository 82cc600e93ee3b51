import AzureIdentity
import FoundationEssentials
import HTTPTransport
import JSONInput

/// ACR's `/oauth2/exchange`: an Azure AD access token in, an ACR refresh token out.
public struct TokenExchange: Sendable {
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
        let body = try await answer(to: request, context: context) { status, message in
            .exchangeRefused(server, status: status, message: message)
        }
        guard let answer = try? JSONInput.decode(Answer.self, from: body) else {
            throw .malformedAnswer(server, "not JSON")
        }
        guard let refresh = answer.refresh_token, !refresh.isEmpty else {
            throw .malformedAnswer(server, "no refresh_token")
        }
        // Only a token whose expiry can be read may be kept: it replaces a good cached one.
        guard let expiresOn = JWT(refresh)?.expiresOn else { throw .malformedAnswer(server, "the refresh token is not a JWT with an expiry") }
        guard expiresOn > context.now() else { throw .malformedAnswer(server, "the refresh token has already expired") }
        return (refresh, expiresOn)
    }

    /// An access token for `scope` from `/oauth2/token`, as a registry client would get it: with the
    /// refresh token (POST form), or as Docker does with stored credentials or none (GET, Basic auth).
    public func accessToken(
        scope: String, presenting authentication: RegistryAuthentication, context: IdentityContext
    ) async throws(ACRError) -> AccessGrant {
        let url = baseURL + "/oauth2/token"
        let request: HTTPRequest
        switch authentication {
        case .refreshToken(let token):
            request = .form(url, [
                ("grant_type", "refresh_token"), ("service", server.name), ("scope", scope), ("refresh_token", token),
            ])
        case .basic(let username, let password):
            let basic = "Basic " + Data((username + ":" + password).utf8).base64EncodedString()
            request = HTTPRequest(method: .get, url: url + "?" + Self.query(server, scope), headers: [("Authorization", basic)])
        case .anonymous:
            request = HTTPRequest(method: .get, url: url + "?" + Self.query(server, scope))
        }
        let body = try await answer(to: request, context: context) { status, message in
            .accessTokenRefused(server, status: status, message: message)
        }
        guard let answer = try? JSONInput.decode(TokenAnswer.self, from: body),
              let token = answer.access_token ?? answer.token, !token.isEmpty
        else {
            throw .malformedAnswer(server, "no access_token")
        }
        guard let expiresOn = JWT(token)?.expiresOn, expiresOn > context.now() else {
            throw .malformedAnswer(server, "the access token is not a JWT with a future expiry")
        }
        return AccessGrant(token: token)
    }

    /// The body of a 200 answer; any other status as the error it means, `refused` for the ones that
    /// depend on the endpoint (400, 401, …).
    private func answer(
        to request: HTTPRequest, context: IdentityContext, refused: (Int, String) -> ACRError
    ) async throws(ACRError) -> Data {
        let response: HTTPResponse
        do {
            response = try await context.budget.send(request, via: context.transport)
        } catch {
            throw .network(server, error)
        }
        let body = Data(response.body)
        switch response.status {
        case 200:
            return body
        case 403 where RegistryErrors.firewallIP(in: body) != nil || RegistryErrors.code(in: body) == "DENIED":
            throw .firewall(server, clientIP: RegistryErrors.firewallIP(in: body))
        case 404:
            throw .registryNotFound(server)
        case 429, 500...599:
            throw .unavailable(server, status: response.status)
        default:
            throw refused(response.status, RegistryErrors.message(in: body) ?? "no message")
        }
    }

    private static func query(_ server: LoginServer, _ scope: String) -> String {
        FormEncoding.encode([("service", server.name), ("scope", scope)])
    }

    private struct Answer: Decodable {
        var refresh_token: String?
    }

    private struct TokenAnswer: Decodable {
        var access_token: String?
        var token: String?
    }
}

/// How a client proves itself to ACR's `/oauth2/token`.
public enum RegistryAuthentication: Sendable {
    case refreshToken(String)
    /// A stored user name and password (admin user, service principal, repository-scoped token).
    case basic(username: String, password: String)
    case anonymous
}

/// An ACR access token and what its `access` claim grants.
public struct AccessGrant: Sendable {
    public struct Access: Sendable, Equatable {
        public var type: String
        public var name: String
        public var actions: [String]
    }

    public let token: String
    public let access: [Access]
    public var expiresOn: Int64? { JWT(token)?.expiresOn }

    public init(token: String) {
        self.token = token
        var access: [Access] = []
        if case .array(let entries)? = JWT(token)?.claims["access"] {
            for case .object(let entry) in entries {
                guard case .string(let type)? = entry["type"], case .string(let name)? = entry["name"] else { continue }
                var actions: [String] = []
                if case .array(let values)? = entry["actions"] {
                    for case .string(let action) in values { actions.append(action) }
                }
                access.append(Access(type: type, name: name, actions: actions))
            }
        }
        self.access = access
    }

    /// The actions granted on `type:name`.
    public func actions(type: String, name: String) -> [String] {
        access.filter { $0.type == type && $0.name == name }.flatMap(\.actions)
    }
}

/// ACR's error bodies: `{"errors":[{"code":"DENIED","message":"…"}]}`.
public enum RegistryErrors {
    private struct Body: Decodable {
        struct Entry: Decodable {
            var code: String?
            var message: String?
        }
        var errors: [Entry]?
    }

    public static func code(in body: Data) -> String? {
        (try? JSONInput.decode(Body.self, from: body))?.errors?.first?.code
    }

    public static func message(in body: Data) -> String? {
        (try? JSONInput.decode(Body.self, from: body))?.errors?.first?.message.map(ServerText.clean)
    }

    /// "client with IP '203.0.113.7' is not allowed access" → 203.0.113.7
    public static func firewallIP(in body: Data) -> String? {
        guard let message = message(in: body), let start = message.firstRange(of: "client with IP '") else { return nil }
        let rest = message[start.upperBound...]
        guard let end = rest.firstIndex(of: "'") else { return nil }
        let ip = rest[..<end]
        return ip.count <= 45 && ip.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) ? String(ip) : nil
    }
}
