import HTTPTransport

/// Why no Azure AD token could be had. Each description names the cause and what to do about it.
public enum AzureIdentityError: Error, Sendable, CustomStringConvertible {
    /// Azure AD refused the request; `AADError` says why.
    case rejected(source: String, AADError)
    /// A managed-identity endpoint refused the request.
    case managedIdentityRejected(status: Int, message: String)
    case network(source: String, HTTPTransportError)
    case unexpectedAnswer(source: String, status: Int)
    /// The answer's token had expired on arrival (a wrong clock here, or a broken endpoint).
    case expiredToken(source: String)
    case unreadableFile(variable: String, path: String)
    case invalidCertificate(path: String, reason: String)
    case azureCLIFailed(String)
    case azureCLINotLoggedIn
    case insecureEndpoint(variable: String, url: String)
    case signInDeclined
    case signInCodeExpired
    /// Azure AD's answer to a sign-in lacks something the helper needs to keep it.
    case signInIncomplete(String)
    /// The store that keeps the sign-in could not be read.
    case signInUnreadable(String)

    public var description: String {
        switch self {
        case .rejected(let source, let error): "\(source): \(error)"
        case .managedIdentityRejected(let status, let message):
            "managed identity: the identity endpoint answered \(status) (\(message)); check that the identity "
                + "is assigned to this machine, and set AZURE_CLIENT_ID to choose one of several"
        case .network(let source, let error):
            "\(source): \(error); check the network path to Azure AD (proxy, firewall, DNS)"
        case .unexpectedAnswer(let source, let status):
            "\(source): unusable answer (HTTP \(status)) from the token endpoint; try again, or check AZURE_AUTHORITY_HOST"
        case .expiredToken(let source):
            "\(source): the token endpoint answered with a token that has already expired; check this machine's clock, then try again"
        case .unreadableFile(let variable, let path):
            "cannot read \(path) (from \(variable)); check that the file exists and is readable by this user"
        case .invalidCertificate(let path, let reason):
            "the certificate \(path) cannot be used: \(reason); give a PEM file with the certificate and its RSA private key"
        case .azureCLIFailed(let message):
            "Azure CLI: `az account get-access-token` failed (\(message)); run `az login`, or configure another identity"
        case .azureCLINotLoggedIn: "Azure CLI: not logged in; run `az login`"
        case .insecureEndpoint(let variable, let url):
            "\(variable)=\(url) is refused: plain http:// is accepted only for 127.0.0.1, ::1 and localhost; use https://"
        case .signInDeclined: "the sign-in was declined in the browser; run `docker-credential-acr login` again to retry"
        case .signInCodeExpired:
            "the code expired before the sign-in was completed; run `docker-credential-acr login` again and enter the new code within its time"
        case .signInIncomplete(let reason): "the sign-in cannot be kept: \(reason); try again, or use another identity"
        case .signInUnreadable(let reason): "cannot read the sign-in of `docker-credential-acr login`: \(reason)"
        }
    }
}

/// An error answer of Azure AD's token endpoint, with its AADSTS code explained.
public struct AADError: Sendable, Equatable, CustomStringConvertible {
    public let error: String
    public let code: Int?
    /// Azure AD's own first sentence, without trace and correlation ids.
    public let summary: String

    public init(error: String, code: Int?, summary: String) {
        self.error = error
        self.code = code
        self.summary = summary
    }

    /// The fix for the codes people meet most; Azure AD's own words otherwise.
    public var cause: String? {
        switch code {
        case 7000215: "invalid client secret (often the secret's ID was given instead of its value); set AZURE_CLIENT_SECRET to the secret's value"
        case 7000222: "the client secret has expired; create a new secret for the app registration and update AZURE_CLIENT_SECRET"
        case 700016: "the application (AZURE_CLIENT_ID) was not found in the tenant; check AZURE_CLIENT_ID and AZURE_TENANT_ID"
        case 90002: "the tenant was not found; check AZURE_TENANT_ID and that the registry's cloud matches the tenant's"
        case 700024: "the client assertion is outside its valid time range; check the machine's clock, and that the federated token file is being refreshed"
        case 70021: "no federated identity credential matches the token's issuer and subject; add one to the app registration for this service account"
        case 700027: "the client assertion's signature is not valid; check that the certificate is the one uploaded to the app registration"
        case 700082, 70008: "the sign-in has expired (unused for too long); run `docker-credential-acr login` again"
        case 50173, 50133: "the sign-in was revoked (a password change, or an administrator revoked the sessions); run `docker-credential-acr login` again"
        case 53003: "blocked by a Conditional Access policy; ask the tenant's administrator"
        default: nil
        }
    }

    public var description: String {
        let codeText = code.map { "AADSTS\($0)" } ?? error
        if let cause { return "Azure AD refused the token request (\(codeText)): \(cause)" }
        return "Azure AD refused the token request (\(codeText)): \(summary)"
    }
}
