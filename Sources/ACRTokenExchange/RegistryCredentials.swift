import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import HTTPTransport
import Logging

/// The credentials Docker asks for: stored ones for every registry, and for ACR login servers tokens
/// derived from the machine's Azure identity, cached with their expiry.
///
/// `get` for an ACR login server, in order: (a) a credential the user stored, unless it is a token whose
/// `exp` has passed; (b) the cached ACR refresh token while it has more than the refresh margin left;
/// (c) a new one from Azure AD and `/oauth2/exchange`, derived once however many `get`s wait for it;
/// (d) nothing (`credentials not found`, so that anonymous pulls still work) when no identity is configured.
public struct RegistryCredentials: CredentialStore {
    public let store: any CredentialAndTokenStore
    public let configuration: ACRConfiguration
    public let environment: [String: String]
    /// How to reach Azure; nil in the binary that answers only from the stores and the cache, where a
    /// `get` that needs a new token throws `NetworkNeeded` so that the engine binary takes over.
    public let connection: AzureConnection?
    public let now: @Sendable () -> Int64
    /// Where the single-flight locks live.
    public let lockDirectory: String
    public let logger: Logger
    /// Tells the user something on stderr without failing the action.
    public let notice: (String) -> Void

    public init(
        store: any CredentialAndTokenStore, configuration: ACRConfiguration, environment: [String: String],
        connection: AzureConnection?, now: @escaping @Sendable () -> Int64, lockDirectory: String, logger: Logger,
        notice: @escaping (String) -> Void
    ) {
        self.store = store
        self.configuration = configuration
        self.environment = environment
        self.connection = connection
        self.now = now
        self.lockDirectory = lockDirectory
        self.logger = logger
        self.notice = notice
    }

    /// AAD tokens are reused while they have this much life left (they live about an hour).
    static let azureADTokenMargin: Int64 = 300

    /// `docker-credential-acr login`'s sign-ins, in the same store.
    public var signIns: StoredSignIns { StoredSignIns(cache: store, now: now) }

    public func loginServer(_ address: ServerAddress) -> LoginServer? {
        LoginServer(address, mapped: configuration.mappedHosts)
    }

    public func credential(for address: ServerAddress) async throws -> Credential? {
        let stored = try await store.credential(for: address)
        guard let server = loginServer(address) else { return stored }
        var storedTokenExpired = false
        if let stored {
            guard let expiresOn = JWT(stored.secret)?.expiresOn, expiresOn <= now() else { return stored }
            storedTokenExpired = true
            logger.info("stored token expired", metadata: ["server": "\(server)", "exp": "\(expiresOn)"])
        }
        let settings = configuration.registries[server.name]?.identity ?? IdentitySettings()
        let source: (any IdentitySource)?
        do {
            source = try IdentityResolver(environment: environment, cloud: server.cloud, signIns: signIns).source(settings)
        } catch {
            throw ACRError.identity(server, error)
        }
        guard let source else {
            if storedTokenExpired { throw ACRError.storedTokenExpired(server) }
            logger.debug("no Azure identity configured", metadata: ["server": "\(server)"])
            return nil
        }
        let token = try await refreshToken(for: server, source: source, settings: settings)
        return Credential(serverURL: address.original, username: LoginServer.tokenUsername, secret: token)
    }

    /// The cached refresh token while it is fresh, else a new one, derived by one process at a time.
    public func refreshToken(for server: LoginServer, source: any IdentitySource, settings: IdentitySettings) async throws -> String {
        let key = TokenKey(kind: .acrRefreshToken, scope: server.name, identity: source.cacheIdentity)
        let margin = configuration.refreshMargin(for: server)
        let cached = try store.cachedToken(for: key)
        if let cached, cached.expiresOn - now() > margin { return cached.token }
        guard let connection else { throw NetworkNeeded() }
        // A token that cannot be kept (a locked keyring) is not worth fetching.
        try store.checkWritable()

        let budget = RequestBudget(total: configuration.timeout)
        let lock = try await FileLock.acquire(
            lockDirectory + "/exchange-" + FormEncoding.escape(server.name) + ".lock", until: budget.deadline)
        defer { lock.release() }
        // Another process may have derived it while this one waited.
        if let fresh = try store.cachedToken(for: key), fresh.expiresOn - now() > margin { return fresh.token }

        let context = IdentityContext(connection: connection, budget: budget, now: now)
        do {
            let azureAD = try await azureADToken(for: server, source: source, context: context)
            guard let tenant = settings.tenant ?? source.tenant ?? azureAD.tenant else { throw ACRError.noTenant(server) }
            let exchange = TokenExchange(server: server, baseURL: configuration.baseURL(for: server))
            let (token, expiresOn) = try await exchange.refreshToken(for: azureAD, tenant: tenant, context: context)
            try store.saveToken(CachedToken(token: token, expiresOn: expiresOn), for: key)
            logger.info("derived ACR refresh token", metadata: [
                "server": "\(server)", "identity": "\(source.cacheIdentity)", "exp": "\(expiresOn)",
            ])
            return token
        } catch {
            logger.error("cannot derive ACR refresh token", metadata: [
                "server": "\(server)", "identity": "\(source.cacheIdentity)", "error": "\(error)",
            ])
            // A token inside the margin but not yet expired still works: better than failing now.
            if let cached, cached.expiresOn > now() + 30 { return cached.token }
            throw error
        }
    }

    func azureADToken(for server: LoginServer, source: any IdentitySource, context: IdentityContext) async throws -> AzureADToken {
        let resource = ContainerRegistryResource.resource
        let key = TokenKey(kind: .azureADToken, scope: "\(server.cloud.name) \(resource)", identity: source.cacheIdentity)
        if let cached = try store.cachedToken(for: key), cached.expiresOn - now() > Self.azureADTokenMargin {
            return AzureADToken(accessToken: cached.token, expiresOn: cached.expiresOn, tenant: JWT(cached.token)?.string("tid"))
        }
        let token: AzureADToken
        do {
            token = try await source.token(resource: resource, context: context)
        } catch {
            throw ACRError.identity(server, error)
        }
        if let renewed = token.renewedSignIn { try signIns.save(renewed) }
        guard token.expiresOn > now() else { throw ACRError.identity(server, .expiredToken(source: source.kind.label)) }
        try store.saveToken(CachedToken(token: token.accessToken, expiresOn: token.expiresOn), for: key)
        return token
    }

    /// Stores what Docker sends; an exposed ACR token under another user is stored under 00000000-….
    public func save(_ credential: Credential, for server: ServerAddress) throws {
        let (fixed, replaced) = ExposedToken.substitutingUser(credential)
        if replaced {
            notice("the secret is an ACR token; storing it under the user \(LoginServer.tokenUsername), the only one ACR accepts with it")
        }
        try store.save(fixed, for: server)
    }

    /// Removes the stored credential and, for a login server, its cached tokens.
    public func remove(_ server: ServerAddress) throws -> Bool {
        let removed = try store.remove(server)
        if let login = loginServer(server) { try store.removeTokens(.scope(login.name)) }
        return removed
    }

    public func allUsernames() throws -> [String: String] {
        try store.allUsernames()
    }
}

/// Thrown where a new token must be fetched but `RegistryCredentials` has no connection to Azure.
public struct NetworkNeeded: Error {
    public init() {}
}
