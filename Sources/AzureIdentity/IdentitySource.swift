import HTTPTransport

/// What every identity source is given: where to send requests, how long it may take, the time.
public struct IdentityContext: Sendable {
    public var transport: any HTTPTransport
    public var budget: RequestBudget
    /// Seconds since 1970; a value so that tests can move time.
    public var now: @Sendable () -> Int64

    public init(transport: any HTTPTransport, budget: RequestBudget, now: @escaping @Sendable () -> Int64) {
        self.transport = transport
        self.budget = budget
        self.now = now
    }
}

/// The identity sources, in the order in which the helper looks for one that is configured.
public enum IdentityKind: String, CaseIterable, Sendable {
    case servicePrincipalSecret = "service-principal"
    case servicePrincipalCertificate = "certificate"
    case workloadIdentity = "workload-identity"
    case managedIdentity = "managed-identity"
    case azureCLI = "azure-cli"
}

/// A way to get an Azure AD token for a resource.
public protocol IdentitySource: Sendable {
    var kind: IdentityKind { get }
    /// Tells identities apart in cache keys; never contains a secret.
    var cacheIdentity: String { get }
    /// The tenant, where the configuration names one before any token is fetched.
    var tenant: String? { get }
    func token(resource: String, context: IdentityContext) async throws(AzureIdentityError) -> AzureADToken
}
