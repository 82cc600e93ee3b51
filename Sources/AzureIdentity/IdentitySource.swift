import HTTPTransport

/// How the helper reaches Azure: HTTP, and the signer for certificate identities. Both are protocols:
/// libcurl is loaded when a request is coming, and the signer (OpenSSL, linked) is only the engine
/// binary's, so the binary Docker runs starts without either.
public struct AzureConnection: Sendable {
    public var transport: any HTTPTransport
    /// Nil where certificate identities cannot be served.
    public var signer: (any ClientAssertionSigner)?

    public init(transport: any HTTPTransport, signer: (any ClientAssertionSigner)?) {
        self.transport = transport
        self.signer = signer
    }

    /// Whether a token for `source` can be had through this connection: all but a certificate's need no signer.
    public func serves(_ source: any IdentitySource) -> Bool {
        signer != nil || source.kind != .servicePrincipalCertificate
    }
}

/// Signs the JWT with which a service principal proves that it holds its certificate's private key.
public protocol ClientAssertionSigner: Sendable {
    /// With `sendChain`, the header carries the certificate chain (`x5c`), for subject name and issuer authentication.
    func assertion(certificatePath: String, password: String?, sendChain: Bool, clientID: String, audience: String, now: Int64)
        throws(AzureIdentityError) -> String
}

/// What every identity source is given: how to reach Azure, how long it may take, the time.
public struct IdentityContext: Sendable {
    public var connection: AzureConnection
    public var budget: RequestBudget
    /// Seconds since 1970; a value so that tests can move time.
    public var now: @Sendable () -> Int64

    public var transport: any HTTPTransport { connection.transport }

    public init(connection: AzureConnection, budget: RequestBudget, now: @escaping @Sendable () -> Int64) {
        self.connection = connection
        self.budget = budget
        self.now = now
    }
}

/// The identity sources, in the order in which the helper looks for one that is configured.
public enum IdentityKind: String, CaseIterable, Sendable {
    case servicePrincipalSecret = "service-principal"
    case servicePrincipalCertificate = "certificate"
    case workloadIdentity = "workload-identity"
    /// A GitHub Actions job's OIDC token (`permissions: id-token: write`), federated with an app registration.
    case githubActions = "github-actions"
    /// An Azure Pipelines service connection with workload identity federation.
    case azurePipelines = "azure-pipelines"
    case managedIdentity = "managed-identity"
    /// A person's sign-in with `docker-credential-acr login`.
    case signedInUser = "signed-in-user"
    case azureCLI = "azure-cli"
}

/// A way to get an Azure AD token for a resource.
public protocol IdentitySource: Sendable {
    var kind: IdentityKind { get }
    /// Tells identities apart in cache keys: everything that decides whose token Azure AD issues, except
    /// secrets (keyring attributes are readable by anyone on the session bus).
    var cacheIdentity: String { get }
    /// The secret that proves the identity, for a salted fingerprint kept with its tokens (`Fingerprint`),
    /// so that a changed secret is tried at once; nil where there is none.
    var proofMaterial: [UInt8]? { get }
    /// The tenant, where the configuration names one before any token is fetched.
    var tenant: String? { get }
    /// Throws `.unavailable` when the source turns out not to be there (the chain goes on), any other
    /// error when it is there and fails.
    func token(resource: String, context: IdentityContext) async throws(AzureIdentityError) -> AzureADToken
}

extension IdentitySource {
    public var proofMaterial: [UInt8]? { nil }
}
