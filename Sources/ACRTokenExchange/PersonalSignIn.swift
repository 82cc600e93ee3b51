import AzureIdentity
import HTTPTransport

/// `docker-credential-acr login`'s steps: a device-code sign-in kept in the store, then, for a registry,
/// the proof that it works there (the resolution `get` runs, pinned to the sign-in).
public struct PersonalSignIn {
    public let credentials: RegistryCredentials
    /// The registry named on the command line; its cloud decides the Azure AD.
    public let server: LoginServer?

    public init(credentials: RegistryCredentials, server: LoginServer?) {
        self.credentials = credentials
        self.server = server
    }

    var identities: IdentityResolver {
        IdentityResolver(
            environment: credentials.environment, cloud: server?.cloud ?? .azurePublic, isAzureVM: credentials.isAzureVM(),
            signIns: credentials.signIns)
    }

    public func authorityHost() throws(AzureIdentityError) -> String { try identities.authorityHost() }

    /// Signs in: `show` is given Azure AD's message with the code; returns the kept sign-in.
    public func signIn(tenant: String, clientID: String, connection: AzureConnection, show: (String) -> Void) async throws -> SignIn {
        // A sign-in that could not be kept would have to be repeated: find out before asking for one.
        try credentials.store.checkWritable()
        let flow = DeviceCodeFlow(authorityHost: try authorityHost(), tenant: tenant, clientID: clientID)
        let timeout = credentials.configuration.timeout
        let prompt = try await flow.start(context: IdentityContext(connection: connection, budget: RequestBudget(total: timeout), now: credentials.now))
        show(prompt.message)
        let (signIn, _) = try await flow.waitForApproval(prompt, connection: connection, requestTimeout: timeout, now: credentials.now)
        try credentials.signIns.save(signIn)
        return signIn
    }

    /// The source set up here that comes before the sign-in in the chain, and why it is there.
    public func earlierSource() -> IdentityCandidate? {
        let settings = server.flatMap { credentials.configuration.registries[$0.name]?.identity } ?? IdentitySettings()
        let candidates = (try? identities.candidates(settings)) ?? []
        return candidates.prefix { $0.kind != .signedInUser }.first { $0.source != nil }
    }

    /// The ACR token the registry gives for the sign-in, with its expiry; throws the cause when it refuses.
    public func prove(on server: LoginServer) async throws -> DerivedToken {
        let resolution = try await credentials.resolver.resolve(server, storedAt: nil, pinned: .signedInUser)
        switch resolution.answer {
        case .derived(let token): return token
        case .failed(let error): throw error
        case .stored, .nothing: throw ACRError.identity(server, .pinnedSourceMissing(.signedInUser, reason: "no sign-in"))
        }
    }
}
