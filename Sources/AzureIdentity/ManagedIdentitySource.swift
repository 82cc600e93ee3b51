import FoundationEssentials
import HTTPTransport

/// A managed identity: App Service / Container Apps' identity endpoint, or a VM's instance metadata
/// service (IMDS). Requests never go through a proxy.
public struct ManagedIdentitySource: IdentitySource {
    public enum Endpoint: Sendable, Equatable {
        /// `IDENTITY_ENDPOINT` and the secret `IDENTITY_HEADER` of App Service and Container Apps.
        case appService(url: String, header: String)
        case imds(url: String)
    }

    public static let imdsURL = "http://169.254.169.254/metadata/identity/oauth2/token"

    public let endpoint: Endpoint
    /// A user-assigned identity's client id; nil for the system-assigned (or only) identity.
    public let clientID: String?

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

    public func token(resource: String, context: IdentityContext) async throws(AzureIdentityError) -> AzureADToken {
        var query = [("resource", resource)]
        if let clientID { query.append(("client_id", clientID)) }
        let request: HTTPRequest
        // IMDS answers 404 and 410 while it starts up (documented); retry those too.
        let extraRetries: Set<Int>
        switch endpoint {
        case .appService(let url, let header):
            request = HTTPRequest(
                method: .get, url: url + "?" + FormEncoding.encode([("api-version", "2019-08-01")] + query),
                headers: [("X-IDENTITY-HEADER", header)])
            extraRetries = []
        case .imds(let url):
            request = HTTPRequest(
                method: .get, url: url + "?" + FormEncoding.encode([("api-version", "2018-02-01")] + query),
                headers: [("Metadata", "true")])
            extraRetries = [404, 410]
        }
        let response: HTTPResponse
        do {
            let probe = if case .imds = endpoint { Self.imdsProbeTimeout } else { Duration?.none }
            response = try await context.budget.send(request, via: context.transport, retryingAlso: extraRetries, probe: probe)
        } catch .noAnswerToProbe(let cause) {
            throw .unavailable(
                .managedIdentity, reason: "IMDS did not answer (\(cause)): this is not an Azure VM, or something blocks its address",
                fix: "on an Azure VM, let this machine reach 169.254.169.254 directly; elsewhere configure another identity")
        } catch {
            throw .network(source: kind.label, error)
        }
        let body = Data(response.body)
        if response.status == 200, let answer = try? JSONDecoder().decode(Answer.self, from: body) {
            let now = context.now()
            return AzureADToken(
                accessToken: answer.access_token,
                expiresOn: answer.expires_on?.value ?? answer.expires_in.map { now + $0.value }, now: now)
        }
        // A 200 that is not a token is a broken answer, not a refusal.
        guard response.status != 200 else { throw .unexpectedAnswer(source: kind.label, status: 200) }
        let failure = try? JSONDecoder().decode(Failure.self, from: body)
        let message = ServerText.clean(failure?.error_description ?? failure?.message ?? failure?.error ?? "no error message")
        // IMDS's answer on a VM without an identity. A user-assigned identity asked for by id that is not
        // there is a mistake to report, not an absence.
        if case .imds = endpoint, response.status == 400, clientID == nil {
            throw .unavailable(
                .managedIdentity, reason: "IMDS answered 400 (\(message)): no managed identity is assigned to this VM",
                fix: "assign one to the VM (az vm identity assign), or configure another identity")
        }
        throw .managedIdentityRejected(status: response.status, message: message)
    }

    /// IMDS sends every field as a string; App Service sends `expires_on` as a number, a numeric string
    /// or (older versions) a date string, which is left to the token's own `exp`.
    private struct Answer: Decodable {
        var access_token: String
        var expires_on: FlexibleNumber?
        var expires_in: FlexibleNumber?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            access_token = try container.decode(String.self, forKey: .access_token)
            expires_on = try? container.decodeIfPresent(FlexibleNumber.self, forKey: .expires_on)
            expires_in = try? container.decodeIfPresent(FlexibleNumber.self, forKey: .expires_in)
        }

        enum CodingKeys: String, CodingKey { case access_token, expires_on, expires_in }
    }

    private struct Failure: Decodable {
        var error: String?
        var error_description: String?
        var message: String?
    }
}
