import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import ErrorExplanation
import HTTPTransport

/// One renewal per registry at a time, across processes: its lock, the walks that wait for it, and how
/// its token reaches them.
extension Walk {
    /// The single flight of this registry's renewals, in the lock folder.
    func exchangeLockPath(_ folder: String) -> String { folder + "/exchange-" + FormEncoding.escape(server.name) + ".lock" }

    /// A walk that may renew reads the store holding the renewal's lock, and one that finds it held waits
    /// until the holder has read the store too: the keyring daemon answers one call at a time, and 31
    /// processes reading at once kept the one that renews from its requests for 60–90 ms.
    mutating func takeTurn() {
        guard lock == nil, case .serving(let folder) = resolver.policy else { return }
        let path = exchangeLockPath(folder)
        if let free = try? FileLock.acquireIfFree(path) {
            lock = free
            misses = StoreMisses(free.note)
            handedAzureAD = free.secret
        } else {
            renewalSeen = true
            FileLock.waitWhileHolderReads(path, until: budget.deadline)
        }
    }

    /// Before a renewal: takes the registry's lock if it is free, or waits for the renewal of the process
    /// that holds it and answers with its token, or its failure. Nil: this walk renews, holding the lock
    /// (or, when that renewal brought nothing, after taking it in turn).
    mutating func joinRenewal(_ candidate: IdentityCandidate, source: any IdentitySource, key: TokenKey, cached: CachedToken?) async -> Bool? {
        guard case .serving(let folder) = resolver.policy else { return nil }
        let path = exchangeLockPath(folder)
        let rule = resolver.configuration.refreshRule(for: server)
        // The renewal waited for before the reads failed: its cause, with this walk's token due for renewal if it has one.
        if let since = awaitedSince, let failed = failedMeanwhile(at: path, since: since, candidate, source: source, cached: cached) {
            return failed
        }
        if lock == nil, let free = try? FileLock.acquireIfFree(path) {
            lock = free
            // Taken after reading the cache while another renewal was under way, which may have ended since;
            // what the reads found missing may be there now.
            if renewalSeen {
                misses = StoreMisses()
                if let token = try? cachedToken(key, for: source), rule.verdict(token, now: now) == .fresh { return use(candidate, cached: token) }
            }
        }
        if lock != nil { return nil }
        return await awaitRenewal(candidate, source: source, key: key, cached: cached, beforeReads: false)
    }

    /// A renewal of this registry was under way when the walk began: the token it derives for `source`, the
    /// chain's first, is this walk's answer too, before any read of the store (that process read it holding
    /// the lock, and found no stored credential and no fresh token). 31 processes that never connect to the
    /// keyring leave it to the one renewing. Anything else (no token, a failure, the budget spent) is left
    /// to the walk, which reads the store first: it may hold a token due for renewal to serve.
    mutating func answeredByRenewal(_ candidate: IdentityCandidate, _ source: any IdentitySource) async -> Bool {
        guard let answered = await awaitRenewal(candidate, source: source, key: registryKey(source), cached: nil, beforeReads: true) else { return false }
        resolution.steps.insert(Resolution.Step(stage: .storedCredential, outcome: .unavailable("none when the renewal under way began")), at: 0)
        return answered
    }

    /// Waits for the renewal the lock's holder is making: its token for `key` (after the reads, else the
    /// one in the store), or its failure for `source`. Nil: neither came, or, before the reads, not the token.
    private mutating func awaitRenewal(
        _ candidate: IdentityCandidate, source: any IdentitySource, key: TokenKey, cached: CachedToken?, beforeReads: Bool
    ) async -> Bool? {
        guard case .serving(let folder) = resolver.policy else { return nil }
        let path = exchangeLockPath(folder)
        let asked = now
        let answer: [UInt8]?
        do {
            answer = try await FileLock.waitForRelease(path, until: budget.deadline)
        } catch {
            if beforeReads { return nil }
            return failing(.identity(candidate.kind), error, cached: cached, source: source)
        }
        let handed = answer.flatMap { CachedToken(handoff: $0, for: key) }.flatMap { provenFor(source, $0) }
        let token = handed ?? (beforeReads ? nil : try? cachedToken(key, for: source))
        if let token, resolver.configuration.refreshRule(for: server).verdict(token, now: now) == .fresh {
            return use(candidate, cached: token)
        }
        if beforeReads {
            awaitedSince = asked
            return nil
        }
        return failedMeanwhile(at: path, since: asked, candidate, source: source, cached: cached)
    }

    /// A renewal this binary cannot make (a certificate's signature, or no connection): the renewal's lock,
    /// if this walk holds it, goes to the engine it execs, with what the walk read.
    func handToEngine(_ source: any IdentitySource) throws(NetworkNeeded) -> Never {
        if let lock {
            // What this walk read holds while the lock stays held since before it read: the engine asks the
            // store nothing more before its requests.
            var misses = misses
            var azureAD: [UInt8] = []
            if !renewalSeen {
                if (try? store.checkWritable()) != nil { misses.writable = true }
                let azureADKey = azureADKey(source)
                switch Result(catching: { try cachedToken(azureADKey, for: source) }) {
                case .success(nil): misses.noteToken(azureADKey)
                case .success(let token?): azureAD = token.handoff(for: azureADKey)
                case .failure: break
                }
            }
            lock.handOver(note: renewalSeen ? "" : misses.note, secret: azureAD)
        }
        throw NetworkNeeded()
    }

    /// The Azure AD token cached for `source`: the one the front passed on with the lock, else the store's
    /// unless the front found none.
    func cachedAzureADToken(_ key: TokenKey, for source: any IdentitySource) throws -> CachedToken? {
        if let handed = CachedToken(handoff: handedAzureAD, for: key).flatMap({ provenFor(source, $0) }) { return handed }
        return misses.lacksToken(key) ? nil : try cachedToken(key, for: source)
    }

    /// The failure of the renewal another process made for `source` since `since` (the note on the lock at
    /// `path`): this walk's too, so that Azure is not asked again by every waiter. Nil: there was none.
    mutating func failedMeanwhile(
        at path: String, since: Int64, _ candidate: IdentityCandidate, source: any IdentitySource, cached: CachedToken?
    ) -> Bool? {
        let fields = FileLock.failure(at: path, since: since)?.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) ?? []
        guard fields.count == 3, fields[0] == source.cacheIdentity else { return nil }
        resolution.record(.identity(candidate.kind), .used(candidate.reason))
        let failed = ACRError.renewalFailedMeanwhile(server, Explanation(cause: fields[1], fix: fields[2].isEmpty ? nil : fields[2]))
        return failing(.exchange, failed, cached: cached, source: source)
    }

    // MARK: - Saving

    /// Saves what the walk has kept so far, and readies the store for the registry's token: called while
    /// the exchange is on the network.
    mutating func saveKept() {
        save(pending)
        pending = []
        if serving { store.prepareToSave() }
    }

    /// Ends the walk. The registry's ACR token goes into the store, then to the processes waiting for this
    /// renewal, and the renewal's lock is released; then the rest of what the walk kept is saved. Saved
    /// first, as the waiters' exits would keep the keyring daemon from it.
    func flush() {
        let registry = pending.filter { $0.key.kind == .acrRefreshToken }
        save(registry)
        for (key, token) in registry { lock?.answerWaiters(token.handoff(for: key)) }
        lock?.release()
        save(pending.filter { $0.key.kind != .acrRefreshToken })
    }

    /// Waits for a store's lock no longer than the budget: a lock held elsewhere, or a store that fails
    /// now, costs the cache entry, not the answer.
    private func save(_ entries: [(key: TokenKey, token: CachedToken)]) {
        FileLock.$budgetDeadline.withValue(budget.deadline) {
            for (key, token) in entries {
                do {
                    try store.saveToken(token, for: key)
                } catch {
                    resolver.logger.warning("token not cached", metadata: [
                        "server": "\(server)", "kind": "\(key.kind.rawValue)", "cause": "\(Explanation(error).cause)",
                    ])
                }
            }
        }
    }
}

/// What a front found missing in the store while it held the registry's renewal lock from before its
/// reads: a note that goes with the lock to the engine, which then asks the keyring nothing again before
/// its requests (each call waits behind every other process's when many start at once). Misses only,
/// never a secret. They stay true while the lock stays held: no other process caches this registry's
/// token without it. An Azure AD token another registry's renewal caches meanwhile costs one request
/// more; a credential `docker login` stores meanwhile is the race it always was.
struct StoreMisses {
    private var entries: Set<String> = []
    /// The store was found writable (an unlocked keyring).
    var writable = false

    init() {}

    init(_ note: String) {
        let lines = note.split(separator: "\n").map(String.init)
        writable = lines.contains("writable")
        entries = Set(lines.filter { $0 != "writable" })
    }

    var note: String { (entries.sorted() + (writable ? ["writable"] : [])).joined(separator: "\n") }

    func lacksCredential(_ address: ServerAddress) -> Bool { entries.contains(Self.credential(address)) }
    func lacksToken(_ key: TokenKey) -> Bool { entries.contains(Self.token(key)) }
    mutating func noteCredential(_ address: ServerAddress) { insert(Self.credential(address)) }
    mutating func noteToken(_ key: TokenKey) { insert(Self.token(key)) }

    private mutating func insert(_ entry: String) {
        if !entry.contains("\n") { entries.insert(entry) }
    }

    private static func credential(_ address: ServerAddress) -> String { "credential\t" + address.key }
    private static func token(_ key: TokenKey) -> String { ["token", key.kind.rawValue, key.scope, key.identity].joined(separator: "\t") }
}
