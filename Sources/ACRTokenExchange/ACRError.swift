import AzureIdentity
import ErrorExplanation
import HTTPTransport

/// Why no ACR credential could be derived: the cause in its own words, and what to do next.
public enum ACRError: ExplainedError, Sendable {
    case identity(LoginServer, AzureIdentityError)
    case noTenant(LoginServer)
    case firewall(LoginServer, clientIP: String?)
    case exchangeRefused(LoginServer, status: Int, message: String)
    case accessTokenRefused(LoginServer, status: Int, message: String)
    case registryNotFound(LoginServer)
    case unavailable(LoginServer, status: Int)
    case malformedAnswer(LoginServer, String)
    case network(LoginServer, HTTPTransportError)
    case storedTokenExpired(LoginServer)
    /// Another process renewing the same token, on which this one waited, failed just now for this cause.
    case renewalFailedMeanwhile(LoginServer, Explanation)

    /// The login server the error is about.
    public var server: LoginServer {
        switch self {
        case .identity(let server, _), .noTenant(let server),
             .firewall(let server, _), .exchangeRefused(let server, _, _), .accessTokenRefused(let server, _, _),
             .registryNotFound(let server), .unavailable(let server, _), .malformedAnswer(let server, _),
             .network(let server, _), .storedTokenExpired(let server), .renewalFailedMeanwhile(let server, _):
            server
        }
    }

    public var cause: String {
        switch self {
        case .identity(let server, let error): "\(server): \(error.cause)"
        case .noTenant(let server): "\(server): the Azure AD token names no tenant"
        case .firewall(let server, let ip):
            "\(server): the registry's firewall refuses this machine\(ip.map { " (client IP \($0))" } ?? "")"
        case .exchangeRefused(let server, let status, let message):
            "\(server): the registry refused the Azure AD token (HTTP \(status): \(message))"
        case .accessTokenRefused(let server, let status, let message):
            "\(server): the registry's token service refused an access token (HTTP \(status): \(message))"
        case .registryNotFound(let server): "\(server): no such registry"
        case .unavailable(let server, let status):
            "\(server): the registry's token service is unavailable (HTTP \(status)) and retries ran out"
        case .malformedAnswer(let server, let what): "\(server): the registry's token service sent an unusable answer (\(what))"
        case .network(let server, let error): "\(server): \(error.cause)"
        case .storedTokenExpired(let server):
            "\(server): the stored token has expired and no Azure identity is configured to renew it"
        case .renewalFailedMeanwhile(_, let other): other.cause + " (another docker-credential-acr just tried)"
        }
    }

    public var fix: String? {
        switch self {
        case .identity(_, let error): error.fix
        case .noTenant: "set AZURE_TENANT_ID or the registry's \"tenant\" in the configuration file"
        case .firewall: "add that address to the registry's network rules, see https://aka.ms/acr/firewall"
        case .exchangeRefused:
            "check that the identity has a role on the registry (AcrPull to pull, AcrPush to push; new assignments "
                + "take up to 10 minutes) and that the tenant is the registry's"
        case .accessTokenRefused: "the credential presented is not valid for this registry"
        case .registryNotFound: "check the name (the full login server, e.g. myregistry.azurecr.io)"
        case .unavailable, .malformedAnswer: "try again later"
        case .network(_, let error): error.fix ?? "check the network path to the registry (proxy, firewall, DNS)"
        case .renewalFailedMeanwhile(_, let other): other.fix
        case .storedTokenExpired:
            "sign in (docker-credential-acr login), log in again (az acr login --expose-token | docker-credential-acr import), "
                + "or configure an identity"
        }
    }
}
