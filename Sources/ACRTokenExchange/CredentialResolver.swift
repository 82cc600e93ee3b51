import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import ErrorExplanation
import HTTPTransport
import Logging

/// The one walk from a login server to the credential Docker gets, in `get`'s order: the stored
/// credential (unless it is a token whose `exp` has passed) → for each identity source of the chain, its
/// cached ACR token → its Azure AD token (cached or new) → the tenant → `/oauth2/exchange`.
///
/// The chain is the Azure SDKs' DefaultAzureCredential's: a source that is not there (variables unset,
/// IMDS silent or without an identity, `az` logged out, no sign-in) is skipped; one that is there and
/// fails ends the walk with its cause, as does any failure of a source the configuration pins. Nothing
/// there at all: no credential, so that anonymous pulls work.
public struct CredentialResolver {
    public let store: any CredentialAndTokenStore
    public let configuration: ACRConfiguration
    public let environment: [String: String]
    /// Nil where only the stores and the cache may answer (`import`, `logout`). Where the walk needs the
    /// network and has no connection that serves the identity (a certificate's in the binary Docker
    /// runs), it throws `NetworkNeeded` and the engine binary walks again.
    public let connection: AzureConnection?
    public let now: @Sendable () -> Int64
    public let isAzureVM: Bool
    public let policy: ResolutionPolicy
    public let logger: Logger

    public init(
        store: any CredentialAndTokenStore, configuration: ACRConfiguration, environment: [String: String],
        connection: AzureConnection?, now: @escaping @Sendable () -> Int64, isAzureVM: Bool,
        policy: ResolutionPolicy, logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.environment = environment
        self.connection = connection
        self.now = now
        self.isAzureVM = isAzureVM
        self.policy = policy
        self.logger = logger
    }

    /// Azure AD tokens are reused while they have more than this left (they live about an hour).
    public static let azureADRule = RenewalRule(margin: 300)
    /// A source found missing at run time (IMDS, `az`) is skipped without asking again for this long.
    public static let unavailableMemoLifetime: Int64 = 300

    /// Walks for `server`: from the credential stored at `address` (nil: start at the identities), through
    /// the configured sources or only `pinned`. Throws only `NetworkNeeded`; every other failure is the
    /// resolution's answer.
    public func resolve(_ server: LoginServer, storedAt address: ServerAddress?, pinned: IdentityKind? = nil) async throws(NetworkNeeded) -> Resolution {
        var walk = Walk(resolver: self, resolution: Resolution(server: server), budget: RequestBudget(total: configuration.timeout))
        defer { walk.flush() }
        walk.takeTurn()
        try await walk.run(address: address, pinned: pinned)
        return walk.resolution
    }

    /// Walks for `server` with `source` alone (a pod's service-account token the kubelet sent): no stored
    /// credential, no other source; its cache, renewal and failures as for any source.
    public func resolve(_ server: LoginServer, using source: any IdentitySource, because reason: String) async throws(NetworkNeeded) -> Resolution {
        var walk = Walk(resolver: self, resolution: Resolution(server: server), budget: RequestBudget(total: configuration.timeout))
        defer { walk.flush() }
        walk.takeTurn()
        let candidate = IdentityCandidate(kind: source.kind, source: source, reason: reason, pinned: true)
        _ = try await walk.tryCandidate(candidate, settings: IdentitySettings(kind: source.kind, tenant: source.tenant))
        return walk.resolution
    }

    func signIns() -> StoredSignIns { StoredSignIns(cache: store, now: now) }
}

/// One resolution in progress.
struct Walk {
    let resolver: CredentialResolver
    var resolution: Resolution
    var lock: FileLock?
    /// Whether another process was renewing when this walk began: the cache it reads may change under it.
    var renewalSeen = false
    /// When this walk began to wait, before its reads, for a renewal that brought it no token.
    var awaitedSince: Int64?
    /// What the store was found not to hold: noted by a front that held the lock through its reads, and
    /// handed with the lock to the engine, which does not ask again.
    var misses = StoreMisses()
    /// The Azure AD token the front found cached, passed on with the lock (`CachedToken.handoff`).
    var handedAzureAD: [UInt8] = []
    /// The time the whole walk may spend on the network and on waiting for the lock.
    let budget: RequestBudget
    /// A cached token due for renewal whose renewal did not work out: served if nothing better comes.
    var fallback: CachedToken?
    /// What the walk caches, written while a request is on the network (`saveKept`) or once the network
    /// is done (`flush`), so that waiting for a store's writer lock never eats the time of a request.
    var pending: [(key: TokenKey, token: CachedToken)] = []

    var server: LoginServer { resolution.server }
    var store: any CredentialAndTokenStore { resolver.store }
    var now: Int64 { resolver.now() }
    var serving: Bool { resolver.policy.isServing }

    mutating func run(address: ServerAddress?, pinned: IdentityKind?) async throws(NetworkNeeded) {
        var settings = resolver.configuration.registries[server.name]?.identity ?? IdentitySettings()
        if let pinned { settings.kind = pinned }
        let identities = IdentityResolver(
            environment: resolver.environment, cloud: server.cloud, isAzureVM: resolver.isAzureVM, signIns: resolver.signIns())
        let leading = leadingCandidates(identities, settings)
        let first = leading.last.flatMap { candidate in candidate.source.map { (candidate, $0) } }
        if renewalSeen, let (candidate, source) = first, await answeredByRenewal(candidate, source) { return }
        // What the reads below ask, asked at once (a handed-over lock comes with what they found).
        if serving, lock?.inherited != true, let (_, source) = first {
            store.readAhead(credentialFor: address, tokens: [registryKey(source), azureADKey(source)])
        }
        var storedExpired = false
        if let address {
            let stored: Credential?
            do {
                stored = misses.lacksCredential(address) ? nil : try await store.credential(for: address)
                if stored == nil { misses.noteCredential(address) }
            } catch {
                return resolution.fail(.storedCredential, error)
            }
            if let stored, let expiresOn = JWT(stored.secret)?.expiresOn, expiresOn <= now {
                storedExpired = true
                resolution.expiredStored = stored
                resolution.record(.storedCredential, .unavailable("the token stored for user \(stored.username) has expired"))
                resolver.logger.info("stored token expired", metadata: ["server": "\(server)", "exp": "\(expiresOn)"])
            } else if let stored {
                resolution.record(.storedCredential, .used("the credential stored for user \(stored.username)"))
                resolution.answer = .stored(stored)
                return
            } else {
                resolution.record(.storedCredential, .unavailable("nothing is stored for \(server)"))
            }
        }
        for kind in identities.order(settings) {
            let candidate: IdentityCandidate
            if let known = leading.first(where: { $0.kind == kind }) {
                candidate = known
            } else {
                do {
                    candidate = try identities.candidate(kind, settings)
                } catch {
                    return resolution.fail(.identitySettings, ACRError.identity(server, error))
                }
            }
            if try await tryCandidate(candidate, settings: settings) { return }
        }
        if let fallback {
            resolver.logger.info("serving the cached token due for renewal", metadata: ["server": "\(server)"])
            return serve(fallback, origin: .dueFallback)
        }
        if storedExpired {
            resolution.answer = .failed(ACRError.storedTokenExpired(server))
        } else {
            resolver.logger.debug("no Azure identity is there", metadata: ["server": "\(server)"])
        }
    }

    /// Whether the walk ends with this candidate: it answered or failed; false when it is not there.
    mutating func tryCandidate(_ candidate: IdentityCandidate, settings: IdentitySettings) async throws(NetworkNeeded) -> Bool {
        let stage = Resolution.Step.Stage.identity(candidate.kind)
        guard let source = candidate.source else {
            if candidate.pinned {
                resolution.fail(stage, ACRError.identity(server, .pinnedSourceMissing(candidate.kind, reason: candidate.reason)))
                return true
            }
            resolution.record(stage, .unavailable(candidate.reason))
            return false
        }
        let key = registryKey(source)
        let rule = resolver.configuration.refreshRule(for: server)
        var cached: CachedToken?
        if serving {
            do {
                cached = misses.lacksToken(key) ? nil : try cachedToken(key, for: source)
            } catch {
                return failing(stage, error, cached: nil, source: source)
            }
            if cached == nil { misses.noteToken(key) }
            if let token = cached, rule.verdict(token, now: now) == .fresh { return use(candidate, cached: token) }
        }
        if !candidate.pinned, let memo = remembered(source) {
            resolution.record(stage, .unavailable(memo))
            if let cached, rule.verdict(cached, now: now) == .due, fallback == nil { fallback = cached }
            return false
        }
        if serving, let answered = await joinRenewal(candidate, source: source, key: key, cached: cached) { return answered }
        guard let connection = resolver.connection, connection.serves(source) else { try handToEngine(source) }
        // libcurl loads on a thread of its own while the store is read and the lock taken.
        connection.transport.prepare()
        if serving {
            do {
                // A token that cannot be kept (a locked keyring) is not worth fetching; a front that held
                // the lock through its reads found it writable.
                if !misses.writable { try store.checkWritable() }
                let asked = now
                let heldDuringCheck = lock != nil
                if lock == nil, case .serving(let folder) = resolver.policy {
                    lock = try await FileLock.acquire(exchangeLockPath(folder), until: budget.deadline)
                }
                // Another process may have derived it while this one waited, unless the lock was held through
                // the check above (handed over by the front, or taken for an earlier candidate).
                if !heldDuringCheck, lock?.inherited != true {
                    cached = try cachedToken(key, for: source)
                    if let token = cached, rule.verdict(token, now: now) == .fresh { return use(candidate, cached: token) }
                }
                // Or failed to: then its cause is this one's too, and Azure is not asked again by every waiter.
                if let lock, lock.waited, let failed = failedMeanwhile(at: lock.path, since: asked, candidate, source: source, cached: cached) {
                    return failed
                }
            } catch {
                return failing(stage, error, cached: cached, source: source)
            }
        }
        // The store is read: the processes waiting for this renewal may read it now, and then wait for its answer.
        lock?.openToWaiters()
        let context = IdentityContext(connection: connection, budget: budget, now: resolver.now)

        let azureAD: AzureADToken
        do {
            azureAD = try await azureADToken(source, context: context)
        } catch let error as AzureIdentityError {
            if case .unavailable(_, let reason, _) = error, !candidate.pinned {
                resolution.record(stage, .unavailable(reason))
                remember(source, reason)
                if let cached, rule.verdict(cached, now: now) == .due, fallback == nil { fallback = cached }
                return false
            }
            resolution.record(stage, .used(candidate.reason))
            return failing(.azureADToken, ACRError.identity(server, error), cached: cached, source: source)
        } catch {
            resolution.record(stage, .used(candidate.reason))
            return failing(.azureADToken, error, cached: cached, source: source)
        }
        resolution.record(stage, .used(candidate.reason))
        resolution.azureADToken = azureAD
        resolution.record(.azureADToken, .used("issued to \(source.cacheIdentity)"))

        let tenant: String
        if let configured = settings.tenant {
            tenant = configured
            resolution.record(.tenant, .used("\(tenant), from the configuration file"))
        } else if let named = source.tenant {
            tenant = named
            resolution.record(.tenant, .used("\(tenant), the identity's"))
        } else if let issued = azureAD.tenant {
            tenant = issued
            resolution.record(.tenant, .used("\(tenant), from the Azure AD token"))
        } else {
            return failing(.tenant, ACRError.noTenant(server), cached: cached, source: source)
        }

        let exchange = TokenExchange(server: server, baseURL: resolver.configuration.baseURL(for: server))
        let derived: (token: String, expiresOn: Int64)
        do {
            // What the walk keeps so far (the Azure AD token) is saved while the exchange is on the network.
            async let exchanged = exchange.refreshToken(for: azureAD, tenant: tenant, context: context)
            saveKept()
            derived = try await exchanged
            if serving {
                keep(CachedToken(token: derived.token, expiresOn: derived.expiresOn, proof: fingerprint(source)), for: key)
            }
        } catch {
            return failing(.exchange, error, cached: cached, source: source)
        }
        resolver.logger.info("derived ACR refresh token", metadata: [
            "server": "\(server)", "identity": "\(source.cacheIdentity)", "exp": "\(derived.expiresOn)",
            "skipped": "\(resolution.unavailableSources.map(\.rawValue).joined(separator: ","))",
        ])
        resolution.record(.exchange, .used("an ACR refresh token until \(derived.expiresOn)"))
        resolution.answer = .derived(DerivedToken(token: derived.token, expiresOn: derived.expiresOn, origin: .exchange))
        return true
    }

    // MARK: - Steps

    /// The source's Azure AD token: cached while fresh (serving), else a new one, kept (serving).
    mutating func azureADToken(_ source: any IdentitySource, context: IdentityContext) async throws -> AzureADToken {
        let resource = ContainerRegistryResource.resource
        let key = azureADKey(source)
        if serving, let cached = try cachedAzureADToken(key, for: source),
           CredentialResolver.azureADRule.verdict(cached, now: now) == .fresh {
            return AzureADToken(accessToken: cached.token, expiresOn: cached.expiresOn, tenant: JWT(cached.token)?.string("tid"))
        }
        let token = try await source.token(resource: resource, context: context)
        guard token.expiresOn > now else { throw AzureIdentityError.expiredToken(source: source.kind.label) }
        if serving {
            if let renewed = token.renewedSignIn {
                let entry = StoredSignIns.entry(renewed, now: now)
                keep(entry.token, for: entry.key)
            }
            keep(CachedToken(token: token.accessToken, expiresOn: token.expiresOn, proof: fingerprint(source)), for: key)
        }
        return token
    }

    mutating func keep(_ token: CachedToken, for key: TokenKey) {
        pending.append((key, token))
    }

    /// The chain's candidates up to the first whose source is there, the one whose token a `get` most
    /// likely serves; made once (a sign-in's is a read of the store). They end early at one that cannot be
    /// made, which the walk's loop then reports.
    func leadingCandidates(_ identities: IdentityResolver, _ settings: IdentitySettings) -> [IdentityCandidate] {
        var leading: [IdentityCandidate] = []
        for kind in identities.order(settings) {
            guard let candidate = try? identities.candidate(kind, settings) else { break }
            leading.append(candidate)
            if candidate.source != nil { break }
        }
        return leading
    }

    func registryKey(_ source: any IdentitySource) -> TokenKey {
        TokenKey(kind: .acrRefreshToken, scope: server.name, identity: source.cacheIdentity)
    }

    func azureADKey(_ source: any IdentitySource) -> TokenKey {
        TokenKey(kind: .azureADToken, scope: "\(server.cloud.name) \(ContainerRegistryResource.resource)", identity: source.cacheIdentity)
    }

    /// The cached token under `key`, unless it was derived with another secret than the source's now.
    func cachedToken(_ key: TokenKey, for source: any IdentitySource) throws -> CachedToken? {
        try store.cachedToken(for: key).flatMap { provenFor(source, $0) }
    }

    /// The token, unless it was derived with another secret than the source's now.
    func provenFor(_ source: any IdentitySource, _ token: CachedToken) -> CachedToken? {
        Fingerprint.matches(token.proof, source.proofMaterial) ? token : nil
    }

    func fingerprint(_ source: any IdentitySource) -> String? {
        source.proofMaterial.map(Fingerprint.make)
    }

    /// A cached token that is still fresh: the answer.
    mutating func use(_ candidate: IdentityCandidate, cached: CachedToken) -> Bool {
        resolution.record(.identity(candidate.kind), .used(candidate.reason))
        serve(cached, origin: .cache)
        return true
    }

    mutating func serve(_ token: CachedToken, origin: DerivedToken.Origin) {
        let when = origin == .cache ? "cached" : "cached, due for renewal, which failed"
        resolution.record(.cachedToken, .used("\(when), until \(token.expiresOn)"))
        resolution.answer = .derived(DerivedToken(token: token.token, expiresOn: token.expiresOn, origin: origin))
    }

    /// A step failed: a cached token due for renewal but still good is better than failing now.
    mutating func failing(_ stage: Resolution.Step.Stage, _ error: any Error, cached: CachedToken?, source: any IdentitySource) -> Bool {
        resolver.logger.error("cannot derive ACR refresh token", metadata: [
            "server": "\(server)", "identity": "\(source.kind.rawValue)", "error": "\(error)",
        ])
        // For those waiting on the lock: the same cause, without asking Azure again.
        // Not a relayed note: processes that keep overlapping would pass it on forever, never asking again.
        let relayed = if case .renewalFailedMeanwhile? = error as? ACRError { true } else { false }
        if let lock, !(error is FileLockError), !relayed {
            let explanation = Explanation(error)
            lock.recordFailure([source.cacheIdentity, explanation.cause, explanation.fix ?? ""].joined(separator: "\t"))
        }
        resolution.fail(stage, error)
        if let cached, resolver.configuration.refreshRule(for: server).verdict(cached, now: now) == .due {
            serve(cached, origin: .dueFallback)
        } else if let fallback {
            serve(fallback, origin: .dueFallback)
        }
        return true
    }

    // MARK: - Sources found missing at run time

    private func memoKey(_ source: any IdentitySource) -> TokenKey {
        TokenKey(kind: .unavailableSource, scope: server.cloud.name, identity: source.cacheIdentity)
    }

    /// Why the source was found missing a moment ago, if it was; only sources that can go missing at run
    /// time are asked (IMDS, `az`), so the others cost no lookup.
    func remembered(_ source: any IdentitySource) -> String? {
        guard source.kind == .managedIdentity || source.kind == .azureCLI,
              let memo = try? store.cachedToken(for: memoKey(source)), memo.expiresOn > now else { return nil }
        let lifetime = CredentialResolver.unavailableMemoLifetime
        return memo.token + " (found \(max(0, lifetime - (memo.expiresOn - now))) s ago; asked again after \(lifetime / 60) min)"
    }

    mutating func remember(_ source: any IdentitySource, _ reason: String) {
        guard serving else { return }
        keep(CachedToken(token: reason, expiresOn: now + CredentialResolver.unavailableMemoLifetime), for: memoKey(source))
    }
}
