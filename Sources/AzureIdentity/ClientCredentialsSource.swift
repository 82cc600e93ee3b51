import FoundationEssentials
import HTTPTransport
import JSONInput
import SystemIO

/// A service principal or a workload identity: Azure AD's client-credentials grant at
/// `{authority}/{tenant}/oauth2/v2.0/token`, proving the client with a secret or a signed assertion.
public struct ClientCredentialsSource: IdentitySource {
    public enum Proof: Sendable {
        case secret(String)
        /// A Kubernetes service-account token (workload identity); re-read on each use, as it rotates.
        case federatedTokenFile(String)
        /// A PEM file with the certificate and its private key (which may be encrypted with the password), or
        /// a PKCS#12 file (.pfx, .p12); `sendChain` puts the chain in the assertion (`x5c`).
        case certificate(path: String, password: String?, sendChain: Bool)
        /// A CI job's OIDC token, asked for before each request.
        case ciFederatedToken(CIFederatedToken)
        /// A pod's service-account token that the kubelet sent (KEP-4412); with `perToken`, a token derived
        /// from it is served only for this very token (the provider config's `cacheType: Token`), else for
        /// its service account (`ServiceAccount`).
        case serviceAccountToken(String, perToken: Bool)
    }

    public let tenantID: String
    public let clientID: String
    public let proof: Proof
    /// With a trailing slash.
    public let authorityHost: String

    public init(tenantID: String, clientID: String, proof: Proof, authorityHost: String) {
        self.tenantID = tenantID
        self.clientID = clientID
        self.proof = proof
        self.authorityHost = authorityHost.hasSuffix("/") ? authorityHost : authorityHost + "/"
    }

    public var kind: IdentityKind {
        switch proof {
        case .secret: .servicePrincipalSecret
        case .federatedTokenFile: .workloadIdentity
        case .certificate: .servicePrincipalCertificate
        case .ciFederatedToken(let ci): ci.kind
        case .serviceAccountToken: .workloadIdentity
        }
    }

    /// A workload identity is also told apart by its service account (the federated token's subject), an
    /// Azure Pipelines one by its service connection.
    public var cacheIdentity: String {
        let base = "\(kind.rawValue):\(tenantID):\(clientID)"
        switch proof {
        case .federatedTokenFile(let path):
            return base + ":" + (Self.read(path).flatMap(JWT.init)?.string("sub") ?? "unknown-subject")
        case .serviceAccountToken(let token, _):
            // The service account's uid as well: one deleted and made again under its name is another.
            let claims = JWT(token)
            var uid: String?
            if case .object(let kubernetes)? = claims?.claims["kubernetes.io"], case .object(let account)? = kubernetes["serviceaccount"],
               case .string(let value)? = account["uid"] { uid = value }
            return base + ":" + (claims?.string("sub") ?? "unknown-subject") + (uid.map { ":" + $0 } ?? "")
        case .ciFederatedToken(.azurePipelines(_, _, let connection)):
            return base + ":" + connection
        default:
            return base
        }
    }

    public var proofMaterial: [UInt8]? {
        switch proof {
        case .secret(let secret): Array(secret.utf8)
        case .certificate(let path, let password, _):
            ((try? FileDescriptorReader.contents(of: path, limit: 1 << 20)) ?? []) + [0] + Array((password ?? "").utf8)
        case .ciFederatedToken(let ci): Array(ci.jobCredential.utf8)
        case .serviceAccountToken(let token, let perToken): perToken ? Array(token.utf8) : nil
        case .federatedTokenFile: nil
        }
    }

    /// The federated token in the file, without whitespace.
    static func read(_ path: String) -> String? {
        guard let bytes = try? FileDescriptorReader.contents(of: path, limit: 1 << 20),
              let text = String(validating: bytes, as: UTF8.self)?.filter({ !$0.isWhitespace }), !text.isEmpty
        else { return nil }
        return text
    }

    public var tenant: String? { tenantID }
    var tokenURL: String { authorityHost + FormEncoding.escape(tenantID) + "/oauth2/v2.0/token" }

    public func token(resource: String, context: IdentityContext) async throws(AzureIdentityError) -> AzureADToken {
        var fields = [("grant_type", "client_credentials"), ("client_id", clientID), ("scope", resource + "/.default")]
        // Every proof but a secret is a signed assertion.
        let assertion: String?
        switch proof {
        case .secret(let secret):
            fields.append(("client_secret", secret))
            assertion = nil
        case .federatedTokenFile(let path):
            guard let token = Self.read(path) else { throw .unreadableFile(variable: "AZURE_FEDERATED_TOKEN_FILE", path: path) }
            assertion = token
        case .ciFederatedToken(let ci):
            assertion = try await ci.fetch(context: context)
        case .serviceAccountToken(let token, _):
            assertion = token
        case .certificate(let path, let password, let sendChain):
            // Walks check `AzureConnection.serves` first and leave certificates to the engine, which signs.
            guard let signer = context.connection.signer else {
                throw .invalidCertificate(path: path, reason: "this binary cannot sign with it; docker-credential-acr-engine can")
            }
            assertion = try signer.assertion(
                certificatePath: path, password: password, sendChain: sendChain, clientID: clientID, audience: tokenURL, now: context.now())
        }
        if let assertion { fields += [("client_assertion_type", Self.jwtBearer), ("client_assertion", assertion)] }
        let response: HTTPResponse
        do {
            response = try await context.budget.send(.form(tokenURL, fields), via: context.transport)
        } catch {
            throw .network(source: kind.label, error)
        }
        return try AzureADAnswer.token(from: response, source: kind.label, now: context.now())
    }

    static let jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
}

/// Reads Azure AD's token endpoint answers: `{"access_token","expires_in","refresh_token"?,"id_token"?}`,
/// or its error shape.
enum AzureADAnswer {
    /// A successful answer; the refresh and ID tokens come only for a person's sign-in.
    struct Grant {
        var token: AzureADToken
        var refreshToken: String?
        var idToken: JWT?
    }

    private struct Success: Decodable {
        var access_token: String
        var expires_in: FlexibleNumber?
        var refresh_token: String?
        var id_token: String?
    }

    private struct Failure: Decodable {
        var error: String
        var error_description: String?
        var error_codes: [Int]?
    }

    static func token(from response: HTTPResponse, source: String, now: Int64) throws(AzureIdentityError) -> AzureADToken {
        try grant(from: response, source: source, now: now).token
    }

    static func grant(from response: HTTPResponse, source: String, now: Int64) throws(AzureIdentityError) -> Grant {
        if response.status == 200, let success = try? JSONInput.decode(Success.self, from: response.body) {
            return Grant(
                token: AzureADToken(accessToken: success.access_token, expiresOn: success.expires_in.map { now + $0.value }, now: now),
                refreshToken: success.refresh_token, idToken: success.id_token.flatMap(JWT.init))
        }
        throw failure(of: response, source: source)
    }

    /// Why an answer is not a token: Azure AD's error body, else its status.
    static func failure(of response: HTTPResponse, source: String) -> AzureIdentityError {
        guard let failure = try? JSONInput.decode(Failure.self, from: response.body) else {
            return .unexpectedAnswer(source: source, status: response.status)
        }
        return .rejected(source: source, AADError(
            error: ServerText.clean(failure.error), code: failure.error_codes?.first,
            summary: summary(of: failure.error_description ?? failure.error)))
    }

    /// "AADSTS7000215: Invalid client secret provided. Ensure … Trace ID: …" → its first sentence.
    static func summary(of description: String) -> String {
        var text = Substring(description)
        if let colon = text.firstIndex(of: ":"), text.hasPrefix("AADSTS") { text = text[text.index(after: colon)...] }
        text = text.drop { $0 == " " }
        if let end = text.firstRange(of: ". ") { text = text[..<end.lowerBound] }
        if let trace = text.firstRange(of: "Trace ID") { text = text[..<trace.lowerBound] }
        return ServerText.clean(String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed()))
    }
}

/// A number that some Azure endpoints send as a JSON number and others as a string.
struct FlexibleNumber: Decodable, Sendable {
    let value: Int64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
        } else if let number = try? container.decode(Double.self) {
            value = Int64(number)
        } else if let text = try? container.decode(String.self), let number = Int64(text) {
            value = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number")
        }
    }
}

extension IdentityKind {
    /// How messages name the source.
    public var label: String {
        switch self {
        case .servicePrincipalSecret: "service principal (AZURE_CLIENT_SECRET)"
        case .servicePrincipalCertificate: "service principal (AZURE_CLIENT_CERTIFICATE_PATH)"
        case .workloadIdentity: "workload identity (AZURE_FEDERATED_TOKEN_FILE)"
        case .githubActions: "GitHub Actions OIDC (ACTIONS_ID_TOKEN_REQUEST_URL)"
        case .azurePipelines: "Azure Pipelines OIDC (SYSTEM_OIDCREQUESTURI)"
        case .managedIdentity: "managed identity"
        case .signedInUser: "signed-in user (docker-credential-acr login)"
        case .azureCLI: "Azure CLI"
        }
    }
}
