
import ErrorExplanation
import HTTPTransport

/// Why no Azure AD token could be had: the cause, and what to do about it.
public enum AzureIdentityError: ExplainedError, Sendable {
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
    /// The source is not there on this machine (IMDS does not answer or has no identity, `az` is logged
    /// out): the chain goes on to the next source, unless the configuration pins this one.
    case unavailable(IdentityKind, reason: String, fix: String)
    /// A source is there but lacks what it needs (`cause` names it).
    case incompleteSetup(IdentityKind, cause: String, fix: String)
    /// A CI service would not give the job its OIDC token.
    case ciTokenRefused(IdentityKind, status: Int, message: String)
    /// The Azure Arc agent's challenge named a key file that may not or cannot be read.
    case arcKeyFile(path: String?, problem: String)
    /// IMDS answered 410 (it is being updated) until the time ran out.
    case imdsUpdating
    /// The configuration file pins a source that is not set up here.
    case pinnedSourceMissing(IdentityKind, reason: String)
    case insecureEndpoint(variable: String, url: String)
    case signInDeclined
    case signInCodeExpired
    /// Azure AD's answer to a sign-in lacks something the helper needs to keep it.
    case signInIncomplete(String)
    /// The store that keeps the sign-in could not be read.
    case signInUnreadable(String)

    public var cause: String {
        switch self {
        case .rejected(let source, let error): "\(source): \(error.cause)"
        case .managedIdentityRejected(let status, let message): "managed identity: the identity endpoint answered \(status) (\(message))"
        case .network(let source, let error): "\(source): \(error.cause)"
        case .unexpectedAnswer(let source, let status): "\(source): unusable answer (HTTP \(status)) from the token endpoint"
        case .expiredToken(let source): "\(source): the token endpoint answered with a token that has already expired"
        case .unreadableFile(let variable, let path): "cannot read \(path) (from \(variable))"
        case .invalidCertificate(let path, let reason): "the certificate \(path) cannot be used: \(reason)"
        case .azureCLIFailed(let message): "Azure CLI: `az account get-access-token` failed (\(message))"
        case .unavailable(let kind, let reason, _): "\(kind.label): \(reason)"
        case .incompleteSetup(let kind, let cause, _): "\(kind.label): \(cause)"
        case .ciTokenRefused(let kind, let status, let message):
            "\(kind.label): the CI service's OIDC token endpoint answered \(status) (\(message))"
        case .arcKeyFile(let path, let problem):
            "managed identity (Azure Arc): " + (path.map { "the agent's challenge names \($0), but \(problem)" } ?? problem)
        case .imdsUpdating: "managed identity: IMDS is temporarily unavailable (HTTP 410: it is being updated)"
        case .pinnedSourceMissing(let kind, let reason):
            "the configuration file asks for \(kind.label), which is not set up here (\(reason))"
        case .insecureEndpoint(let variable, let url):
            "\(variable)=\(url) is refused: plain http:// is accepted only for 127.0.0.1, ::1 and localhost"
        case .signInDeclined: "the sign-in was declined in the browser"
        case .signInCodeExpired: "the code expired before the sign-in was completed"
        case .signInIncomplete(let reason): "the sign-in cannot be kept: \(reason)"
        case .signInUnreadable(let reason): "cannot read the sign-in of `docker-credential-acr login`: \(reason)"
        }
    }

    public var fix: String? {
        switch self {
        case .rejected(_, let error): error.fix
        case .managedIdentityRejected:
            "check that the identity is assigned to this machine, and set AZURE_CLIENT_ID to choose one of several"
        case .network(_, let error): error.fix ?? "check the network path to Azure AD (proxy, firewall, DNS)"
        case .unexpectedAnswer: "try again, or check AZURE_AUTHORITY_HOST"
        case .expiredToken: "check this machine's clock, then try again"
        case .unreadableFile: "check that the file exists and is readable by this user"
        case .invalidCertificate: "give a PEM or PKCS#12 (.pfx) file with the certificate and its RSA private key"
        case .azureCLIFailed: "run `az login`, or configure another identity"
        case .unavailable(_, _, let fix): fix
        case .incompleteSetup(_, _, let fix): fix
        case .ciTokenRefused(.azurePipelines, _, _):
            "check that SYSTEM_ACCESSTOKEN is this job's $(System.AccessToken) and that AZURESUBSCRIPTION_SERVICE_CONNECTION_ID names a service connection with workload identity federation this pipeline may use"
        case .ciTokenRefused:
            "give the job `permissions: id-token: write`; the request token is the running job's own and cannot be used outside it"
        case .arcKeyFile:
            "run as root or as a member of the himds group (sudo usermod -aG himds $USER), and check that IDENTITY_ENDPOINT is the Arc agent's"
        case .imdsUpdating: "try again in a minute (Microsoft's SDKs wait up to about 70 s), or raise timeoutSeconds in the configuration file"
        case .pinnedSourceMissing:
            "set it up, or remove \"identity\" from the registry's entry in the configuration file to let the helper choose"
        case .insecureEndpoint: "use https://"
        case .signInDeclined: "run `docker-credential-acr login` again to retry"
        case .signInCodeExpired: "run `docker-credential-acr login` again and enter the new code within its time"
        case .signInIncomplete: "try again, or use another identity"
        case .signInUnreadable: nil
        }
    }
}

/// An error answer of Azure AD's token endpoint, with its AADSTS code explained.
public struct AADError: ExplainedError, Sendable, Equatable {
    public let error: String
    public let code: Int?
    /// Azure AD's own first sentence, without trace and correlation ids.
    public let summary: String

    public init(error: String, code: Int?, summary: String) {
        self.error = error
        self.code = code
        self.summary = summary
    }

    /// The explanation and fix of the codes people meet most; nil for others.
    var known: (cause: String, fix: String)? {
        switch code {
        case 7000215: ("invalid client secret (often the secret's ID was given instead of its value)", "set AZURE_CLIENT_SECRET to the secret's value")
        case 7000222: ("the client secret has expired", "create a new secret for the app registration and update AZURE_CLIENT_SECRET")
        case 700016: ("the application (AZURE_CLIENT_ID) was not found in the tenant", "check AZURE_CLIENT_ID and AZURE_TENANT_ID")
        case 90002: ("the tenant was not found", "check AZURE_TENANT_ID and that the registry's cloud matches the tenant's")
        case 700024: ("the client assertion is outside its valid time range", "check the machine's clock, and that the federated token file is being refreshed")
        case 70021: ("no federated identity credential matches the token's issuer and subject", "add one to the app registration for this issuer and subject (the service account, repository or service connection)")
        case 700027: ("the client assertion's signature is not valid", "check that the certificate is the one uploaded to the app registration")
        case 700082, 70008: ("the sign-in has expired (unused for too long)", "run `docker-credential-acr login` again")
        case 50173, 50133: ("the sign-in was revoked (a password change, or an administrator revoked the sessions)", "run `docker-credential-acr login` again")
        case 53003: ("blocked by a Conditional Access policy", "ask the tenant's administrator")
        default: nil
        }
    }

    /// "Azure AD refused the token request (AADSTS7000215): invalid client secret …"
    public var cause: String {
        "Azure AD refused the token request (\(code.map { "AADSTS\($0)" } ?? error)): \(known?.cause ?? summary)"
    }

    public var fix: String? { known?.fix }
}
