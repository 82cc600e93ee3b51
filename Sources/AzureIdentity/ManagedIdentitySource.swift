import FoundationEssentials
import HTTPTransport
import JSONInput

/// A managed identity, from the endpoint of the Azure host this runs on, each asked as Microsoft's SDKs
/// (MSAL) ask it. Requests never go through a proxy.
public struct ManagedIdentitySource: IdentitySource {
    public enum Endpoint: Sendable, Equatable {
        /// `IDENTITY_ENDPOINT` and the secret `IDENTITY_HEADER` of App Service, Container Apps, Functions
        /// and Azure Automation.
        case appService(url: String, header: String)
        /// Service Fabric: App Service's variables and `IDENTITY_SERVER_THUMBPRINT`, the SHA-1 thumbprint of the
        /// cluster's own certificate, the only one its endpoint is trusted with.
        case serviceFabric(url: String, secret: String, thumbprint: String)
        /// `MSI_ENDPOINT` and `MSI_SECRET` of Azure Machine Learning; its default identity's client id
        /// (`DEFAULT_IDENTITY_CLIENT_ID`) is asked for when none is named.
        case azureML(url: String, secret: String, defaultClientID: String?)
        /// `MSI_ENDPOINT` alone: Cloud Shell, which gives the signed-in user's token.
        case cloudShell(url: String)
        /// The Azure Arc agent (himds), which answers a first request with a challenge: a key file to read.
        case azureArc(url: String)
        case imds(url: String)

        var host: String {
            switch self {
            case .appService: "App Service"
            case .serviceFabric: "Service Fabric"
            case .azureML: "Azure Machine Learning"
            case .cloudShell: "Cloud Shell"
            case .azureArc: "Azure Arc"
            case .imds: "IMDS"
            }
        }
    }

    public static let imdsURL = "http://169.254.169.254/metadata/identity/oauth2/token"
    /// The Arc agent's endpoint when `IDENTITY_ENDPOINT` does not name it.
    public static let arcURL = "http://127.0.0.1:40342/metadata/identity/oauth2/token"

    public let endpoint: Endpoint
    /// A user-assigned identity's client id, or its resource id (`/subscriptions/…`, as an AKS node's
    /// azure.json may give it); nil for the system-assigned (or only) identity.
    public let clientID: String?

    /// The query parameter naming the identity: IMDS and App Service take a resource id under their own names.
    private func identityParameter(resourceIDName: String) -> [(String, String)] {
        guard let clientID else { return [] }
        return [(clientID.hasPrefix("/subscriptions/") ? resourceIDName : "client_id", clientID)]
    }

    public init(endpoint: Endpoint, clientID: String?) {
        self.endpoint = endpoint
        self.clientID = clientID
    }

    /// How long IMDS has to answer a first request before the chain takes it for absent, as the Azure SDKs
    /// probe it (a VM's IMDS answers in milliseconds; elsewhere the address may not answer at all).
    public static let imdsProbeTimeout: Duration = .seconds(1)

    public var kind: IdentityKind { .managedIdentity }
    public var cacheIdentity: String { "managed-identity:\(clientID ?? "default")" }
    public var tenant: String? { nil }

    /// The request for `resource`, and the statuses retried besides 429 and 5xx.
    func request(resource: String) -> (HTTPRequest, retryingAlso: Set<Int>) {
        var query = [("resource", resource)]
        func get(_ url: String, _ version: String, _ headers: [(String, String)]) -> HTTPRequest {
            HTTPRequest(method: .get, url: url + "?" + FormEncoding.encode([("api-version", version)] + query), headers: headers)
        }
        switch endpoint {
        case .appService(let url, let header):
            query += identityParameter(resourceIDName: "mi_res_id")
            // Metadata as MSAL sends it: Azure Automation, which sets the same variables, requires it.
            return (get(url, "2019-08-01", [("X-IDENTITY-HEADER", header), ("Metadata", "true")]), [])
        case .serviceFabric(let url, let secret, let thumbprint):
            // The cluster configures its one identity; MSAL sends no client id here.
            var request = get(url, "2019-07-01-preview", [("Secret", secret)])
            request.serverThumbprint = thumbprint
            return (request, [])
        case .azureML(let url, let secret, let defaultClientID):
            if let id = clientID ?? defaultClientID { query.append(("clientid", id)) }
            return (get(url, "2017-09-01", [("secret", secret)]), [])
        case .cloudShell(let url):
            return (.form(url, query, headers: [("Metadata", "true")]), [])
        case .azureArc(let url):
            return (get(url, "2020-06-01", [("Metadata", "true")]), [])
        case .imds(let url):
            query += identityParameter(resourceIDName: "msi_res_id")
            // IMDS answers 404 while it starts and 410 while it is updated (documented); retry those too.
            return (get(url, "2018-02-01", [("Metadata", "true")]), [404, 410])
        }
    }

    public func token(resource: String, context: IdentityContext) async throws(AzureIdentityError) -> AzureADToken {
        var (request, extraRetries) = request(resource: resource)
        var response = try await send(request, retryingAlso: extraRetries, context: context)
        if case .azureArc = endpoint, response.status == 401 {
            let key = try AzureArcKeyFile.read(challenge: response.header("WWW-Authenticate"))
            request.headers.append(("Authorization", "Basic \(key)"))
            response = try await send(request, retryingAlso: [], context: context)
        }
        let body = Data(response.body)
        if response.status == 200, let answer = try? JSONInput.decode(Answer.self, from: body) {
            let now = context.now()
            return AzureADToken(
                accessToken: answer.access_token,
                expiresOn: answer.expires_on.flatMap(ExpiryTime.seconds) ?? answer.expires_in.map { now + $0.value }, now: now)
        }
        // A 200 that is not a token is a broken answer, not a refusal.
        guard response.status != 200 else { throw .unexpectedAnswer(source: kind.label, status: 200) }
        let failure = try? JSONInput.decode(Failure.self, from: body)
        let message = ServerText.clean(failure?.error_description ?? failure?.message ?? failure?.error ?? "no error message")
        guard case .imds = endpoint else { throw .managedIdentityRejected(status: response.status, message: message) }
        // IMDS's answer on a VM without an identity. A user-assigned identity asked for by id that is not
        // there is a mistake to report, not an absence.
        if response.status == 400, clientID == nil {
            throw .unavailable(
                .managedIdentity, reason: "IMDS answered 400 (\(message)): no managed identity is assigned to this VM",
                fix: "assign one to the VM (az vm identity assign), or configure another identity")
        }
        if response.status == 410 { throw .imdsUpdating }
        throw .managedIdentityRejected(status: response.status, message: message)
    }

    private func send(
        _ request: HTTPRequest, retryingAlso extraRetries: Set<Int>, context: IdentityContext
    ) async throws(AzureIdentityError) -> HTTPResponse {
        do {
            let probe = if case .imds = endpoint { Self.imdsProbeTimeout } else { Duration?.none }
            return try await context.budget.send(request, via: context.transport, retryingAlso: extraRetries, probe: probe)
        } catch .noAnswerToProbe(let cause) {
            throw .unavailable(
                .managedIdentity, reason: "IMDS did not answer (\(cause)): this is not an Azure VM, or something blocks its address",
                fix: "on an Azure VM, let this machine reach 169.254.169.254 directly; elsewhere configure another identity")
        } catch {
            throw .network(source: kind.label, error)
        }
    }

    /// IMDS and Arc send every field as a string; the other hosts send `expires_on` as a number, a numeric
    /// string or a date (`ExpiryTime`).
    private struct Answer: Decodable {
        var access_token: String
        var expires_on: String?
        var expires_in: FlexibleNumber?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            access_token = try container.decode(String.self, forKey: .access_token)
            expires_on = (try? container.decodeIfPresent(String.self, forKey: .expires_on))
                ?? (try? container.decodeIfPresent(FlexibleNumber.self, forKey: .expires_on)).flatMap { $0.map { String($0.value) } }
            expires_in = try? container.decodeIfPresent(FlexibleNumber.self, forKey: .expires_in)
        }

        enum CodingKeys: String, CodingKey { case access_token, expires_on, expires_in }
    }

    /// `{"error", "error_description"}` (IMDS and most hosts), `{"statusCode", "message"}` (App Service), or
    /// `{"error": {"code", "message"}}` (Service Fabric).
    private struct Failure: Decodable {
        var error: String?
        var error_description: String?
        var message: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            error_description = try? container.decodeIfPresent(String.self, forKey: .error_description)
            message = try? container.decodeIfPresent(String.self, forKey: .message)
            error = try? container.decodeIfPresent(String.self, forKey: .error)
            if error == nil, let nested = try? container.decodeIfPresent(Nested.self, forKey: .error) {
                error = nested.code
                message = message ?? nested.message
            }
        }

        enum CodingKeys: String, CodingKey { case error, error_description, message }
        struct Nested: Decodable {
            var code: String?
            var message: String?
        }
    }
}
