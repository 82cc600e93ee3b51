import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import HTTPTransport
import Logging

/// The credentials Docker asks for: stored ones for every registry, and for ACR login servers what
/// `CredentialResolver` finds (a stored credential, or tokens derived from the machine's Azure identity,
/// cached with their expiry).
public struct RegistryCredentials: CredentialStore {
    public let store: any CredentialAndTokenStore
    public let configuration: ACRConfiguration
    public let environment: [String: String]
    /// How to reach Azure; nil for the actions that answer from the stores only. A `get` that needs a new
    /// token this connection cannot get (a certificate's, without a signer) throws `NetworkNeeded`, so
    /// that the engine binary takes over.
    public let connection: AzureConnection?
    public let now: @Sendable () -> Int64
    /// Whether IMDS is worth asking (`IdentityResolver.detectAzureVM`); asked only when an ACR walk is
    /// built, not by the actions that never walk (store, erase, list).
    public let isAzureVM: @Sendable () -> Bool
    /// Where the single-flight locks live.
    public let lockDirectory: String
    public let logger: Logger
    /// Tells the user something on stderr without failing the action.
    public let notice: (String) -> Void

    public init(
        store: any CredentialAndTokenStore, configuration: ACRConfiguration, environment: [String: String],
        connection: AzureConnection?, now: @escaping @Sendable () -> Int64, isAzureVM: @escaping @Sendable () -> Bool = IdentityResolver.detectAzureVM,
        lockDirectory: String, logger: Logger, notice: @escaping (String) -> Void
    ) {
        self.isAzureVM = isAzureVM
        self.store = store
        self.configuration = configuration
        self.environment = environment
        self.connection = connection
        self.now = now
        self.lockDirectory = lockDirectory
        self.logger = logger
        self.notice = notice
    }

    /// `docker-credential-acr login`'s sign-ins, in the same store.
    public var signIns: StoredSignIns { StoredSignIns(cache: store, now: now) }

    public func loginServer(_ address: ServerAddress) -> LoginServer? {
        LoginServer(address, known: configuration.knownHosts)
    }

    /// The walk `get` takes, serving from and saving to the cache.
    public var resolver: CredentialResolver {
        CredentialResolver(
            store: store, configuration: configuration, environment: environment, connection: connection, now: now,
            isAzureVM: isAzureVM(), policy: .serving(lockDirectory: lockDirectory), logger: logger)
    }

    /// How `get` answers for a login server; nil for other registries.
    public func resolution(for address: ServerAddress) async throws(NetworkNeeded) -> Resolution? {
        guard let server = loginServer(address) else { return nil }
        return try await resolver.resolve(server, storedAt: address)
    }

    public func credential(for address: ServerAddress) async throws -> Credential? {
        guard let resolution = try await resolution(for: address) else { return try await store.credential(for: address) }
        return try resolution.credential(serverURL: address.original)
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
