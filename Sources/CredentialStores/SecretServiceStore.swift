import DockerCredentialProtocol
import ErrorExplanation
#if canImport(Glibc)
import Glibc
#endif

/// Credentials in the desktop keyring through the freedesktop Secret Service (gnome-keyring, KeePassXC).
///
/// Items use exactly the schema and attributes of Docker's own `docker-credential-secretservice`
/// (`io.docker.Credentials`; `label` = "Docker Credentials", `server` = the URL as written, `username`,
/// `docker_cli` = "1"; item label = the URL), so a user who switches helpers keeps every login, and
/// `list` returns only Docker credentials.
///
/// A write stores the new item before it deletes the registry's other items, so that nothing is lost if
/// it is interrupted; writers hold an exclusive lock on `lockDirectory/keyring.lock` so that two of them
/// for one registry cannot delete each other's new item.
public final class SecretServiceStore: CredentialStore {
    private let service: SecretService
    private let lockDirectory: String
    /// The default collection once it was seen unlocked: a `get` that renews asks up to four times, and
    /// within one run a keyring that locks makes the next write fail anyway.
    private var unlocked: String?
    /// Whether the default collection was seen unlocked through its alias path, where only that was asked.
    private var seenUnlocked = false
    /// Searches asked ahead (`readAhead`), each answered once: a search asked again, or after a write of
    /// this store, asks the daemon again.
    private var searchedAhead: [[String: String]: Result<(unlocked: [String], locked: [String]), BusFailure>] = [:]

    static let schemaName = "io.docker.Credentials"
    static let dockerLabel = "Docker Credentials"
    /// Derived tokens: a schema of our own, so Docker's helper and `list` never see them.
    static let tokenSchemaName = "io.github.docker-credential-acr.Token"

    /// Connects to the Secret Service on the session bus; throws when none answers.
    public init(lockDirectory: String, environment: [String: String]) throws(SecretServiceError) {
        self.lockDirectory = lockDirectory
        do {
            service = try SecretService(environment: environment)
        } catch {
            throw .unreachable(error)
        }
    }

    /// A locked item is reported as `.locked`, not as "not found", which is how a search shows it.
    public func credential(for server: ServerAddress) throws -> Credential? {
        // A writer replaces an entry by adding the new item, then deleting the old one: an item found by
        // the search may be gone when it is read. Searching again then finds the new one; "not found"
        // would send Docker on without credentials.
        for _ in 1...3 {
            let (credential, vanished) = try readCredential(for: server)
            if credential != nil || !vanished { return credential }
        }
        return nil
    }

    /// The credential, and whether an item the search found was gone before it could be read.
    private func readCredential(for server: ServerAddress) throws -> (Credential?, vanished: Bool) {
        // One search lists every Docker item; the index names their servers. Docker asks with the spelling
        // it stored, so the exact spelling is tried first, then the others of the same registry.
        let all = try dockerItems()
        let matching = all.filter { ServerAddress.key(of: $0.1.server) == server.key }
            .sorted { ($0.1.server == server.original ? "" : $0.1.server) < ($1.1.server == server.original ? "" : $1.1.server) }
        if matching.isEmpty { try checkNotHidden(all) }
        var vanished = false
        for (item, _) in matching {
            if item.isLocked { throw SecretServiceError.locked }
            // Read afresh: the index is only a guide to which item to open.
            guard let attributes = try item.attributesUnlessVanished() else {
                vanished = true
                continue
            }
            guard let stored = attributes["server"], ServerAddress.key(of: stored) == server.key else { continue }
            // An item without a secret is one a dying keyring daemon left half-written: not a credential.
            guard let secret = item.secret(), !secret.isEmpty else {
                vanished = true
                continue
            }
            return (Credential(serverURL: stored == server.original ? server.original : stored,
                               username: attributes["username"] ?? "", secret: secret), vanished)
        }
        return (nil, vanished)
    }

    public func save(_ credential: Credential, for server: ServerAddress) throws {
        searchedAhead = [:]
        let collection = try unlockedCollection()
        let lock = try writerLock()
        defer { lock.release() }
        try store(
            credential.secret, in: collection, schema: Self.schemaName, label: credential.serverURL,
            attributes: [
                "label": Self.dockerLabel, "server": credential.serverURL, "username": credential.username,
                "docker_cli": "1",
            ])
        // Only after the new item is safe: drop other spellings and other usernames of this registry.
        for (item, entry) in try dockerItems() where ServerAddress.key(of: entry.server) == server.key
            && (entry.server != credential.serverURL || entry.username != credential.username) {
            try item.delete()
        }
    }

    public func remove(_ server: ServerAddress) throws -> Bool {
        searchedAhead = [:]
        try checkUnlocked()
        let lock = try writerLock()
        defer { lock.release() }
        var removed = false
        for (item, entry) in try dockerItems() where ServerAddress.key(of: entry.server) == server.key {
            try item.delete()
            removed = true
        }
        return removed
    }

    /// A locked collection is reported, as for every other action, though its attributes could be listed.
    public func allUsernames() throws -> [String: String] {
        let items = try dockerItems()
        try checkNotHidden(items)
        return Dictionary(items.map { ($0.1.server, $0.1.username) }, uniquingKeysWith: { first, _ in first })
    }

    /// Throws `.locked` where a search may have missed items because the collection is locked: a daemon
    /// that restarted brings it back locked, and gnome-keyring then finds no item at all (their attributes
    /// are encrypted), so "not found" would send Docker on without credentials. Only an empty search, or one
    /// with locked items, costs the extra question.
    private func checkNotHidden(_ items: [(Item, KeyringItemIndex.Entry)]) throws {
        if items.isEmpty || items.contains(where: { $0.0.isLocked }) { try checkUnlocked() }
    }

    // MARK: - Secret Service calls

    /// Stores `secret` in `collection`, replacing an item with exactly these attributes. Items carry their
    /// schema's name as `xdg:schema`, as libsecret writes it (Docker's helper finds them by it).
    private func store(
        _ secret: String, in collection: String, schema: String, label: String, attributes: [String: String]
    ) throws(SecretServiceError) {
        do {
            try service.createItem(
                in: collection, label: label, attributes: attributes.merging(["xdg:schema": schema]) { new, _ in new }, secret: secret)
        } catch {
            throw .failed("store", error)
        }
    }

    /// A search result: an item's D-Bus path.
    struct Item {
        let path: String
        let service: SecretService
        let isLocked: Bool

        /// Nil when the item no longer exists: another process deleted it after the search found it.
        func attributesUnlessVanished() throws(SecretServiceError) -> [String: String]? {
            do {
                return try service.attributes(of: path)
            } catch {
                if error.isNoSuchObject { return nil }
                throw .failed("read an item of", error)
            }
        }

        /// Nil for a locked item, or one gone since the search.
        func secret() -> String? {
            guard !isLocked, let bytes = try? service.secrets([path])[path] else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }

        func delete() throws(SecretServiceError) {
            do {
                try service.delete(path)
            } catch {
                throw .failed("delete", error)
            }
        }
    }

    /// Every Docker item with its server and user name: one search, plus one read for each item that the
    /// index does not know yet.
    private func dockerItems() throws -> [(Item, KeyringItemIndex.Entry)] {
        let path = lockDirectory + "/keyring-items"
        let stored = KeyringItemIndex.load(path, daemon: service.daemon)
        var index = KeyringItemIndex(daemon: service.daemon, items: [:])
        var found: [(Item, KeyringItemIndex.Entry)] = []
        for item in try items(["docker_cli": "1"]) {
            let entry: KeyringItemIndex.Entry
            if let known = stored.items[item.path] {
                entry = known
            } else {
                // Deleted by another process since the search: it is not there any more.
                guard let attributes = try item.attributesUnlessVanished() else { continue }
                entry = KeyringItemIndex.Entry(server: attributes["server"] ?? "", username: attributes["username"] ?? "")
            }
            index.items[item.path] = entry
            found.append((item, entry))
        }
        if index.items != stored.items {
            try? PrivateFile.makeDirectory(lockDirectory)
            index.save(path)
        }
        return found
    }

    /// Every item of the schema with `attributes`, locked or not (one D-Bus call, unless asked ahead). Never
    /// prompts: a headless machine has no prompter, and a locked collection is reported by `checkUnlocked` instead.
    private func items(_ attributes: [String: String], schema: String = schemaName) throws(SecretServiceError) -> [Item] {
        let query = attributes.merging(["xdg:schema": schema]) { new, _ in new }
        do {
            let (unlocked, locked) = try (searchedAhead.removeValue(forKey: query) ?? Result { () throws(BusFailure) in try service.search(query) }).get()
            return unlocked.map { Item(path: $0, service: service, isLocked: false) }
                + locked.map { Item(path: $0, service: service, isLocked: true) }
        } catch {
            throw .failed("search", error)
        }
    }

    private func writerLock() throws -> FileLock {
        try FileLock.acquireBlocking(lockDirectory + "/keyring.lock", until: FileLock.storeDeadline)
    }

    /// Throws `.locked` when the default collection is locked: lookups then look like "not found".
    /// One call on the alias path the specification gives the default collection; a service without it
    /// is asked as for a write.
    public func checkUnlocked() throws(SecretServiceError) {
        if unlocked != nil || seenUnlocked { return }
        if let locked = try? service.isLocked(SecretService.defaultCollectionAlias) {
            if locked { throw .locked }
            seenUnlocked = true
            return
        }
        _ = try unlockedCollection()
    }

    /// The default collection's path; throws `.locked` when it is locked: lookups then look like "not found".
    private func unlockedCollection() throws(SecretServiceError) -> String {
        if let unlocked { return unlocked }
        let collection: String?
        let locked: Bool
        do {
            collection = try service.defaultCollection()
            locked = try collection.map(service.isLocked) ?? false
        } catch {
            throw .failed("open the default collection of", error)
        }
        guard let collection else { throw .noDefaultCollection }
        if locked { throw .locked }
        unlocked = collection
        return collection
    }
}

extension SecretServiceStore: TokenCache {
    public func cachedToken(for key: TokenKey) throws -> CachedToken? {
        // A plain loop: `.lazy…first` on a collection evaluates its transform up to three times, and each
        // evaluation here is a D-Bus call.
        for item in try items(Self.attributes(of: key), schema: Self.tokenSchemaName) {
            // Locked, it would read as "no token" and a new one would be derived only to fail at saving.
            if item.isLocked { throw SecretServiceError.locked }
            if let token = item.secret().flatMap(CachedToken.init(encoded:)) { return token }
        }
        return nil
    }

    public func checkWritable() throws {
        try checkUnlocked()
    }

    /// A token item's attributes: its key, never the token or its expiry (anyone on the bus can read them).
    private static func attributes(of key: TokenKey) -> [String: String] {
        ["kind": key.kind.rawValue, "scope": key.scope, "identity": key.identity]
    }

    /// The searches of Docker's items and of the tokens, the collection's `Locked` and a session, in one
    /// round trip instead of one each.
    public func readAhead(credentialFor server: ServerAddress?, tokens: [TokenKey]) {
        var searches = tokens.map { Self.attributes(of: $0).merging(["xdg:schema": Self.tokenSchemaName]) { new, _ in new } }
        if server != nil { searches.insert(["docker_cli": "1", "xdg:schema": Self.schemaName], at: 0) }
        let (found, locked) = service.searchAhead(searches)
        for (query, result) in zip(searches, found) { searchedAhead[query] = result }
        if locked == false { seenUnlocked = true }
    }

    /// The collection's path and a session, asked while a request is on the network: a save after it is
    /// then the one CreateItem call.
    public func prepareToSave() {
        _ = try? unlockedCollection()
        service.openSession()
    }

    public func saveToken(_ token: CachedToken, for key: TokenKey) throws {
        searchedAhead = [:]
        try store(
            token.encoded, in: try unlockedCollection(), schema: Self.tokenSchemaName, label: "docker-credential-acr \(key.kind.rawValue) for \(key.scope)",
            attributes: Self.attributes(of: key))
    }

    public func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] {
        try items([:], schema: Self.tokenSchemaName).compactMap { item -> (key: TokenKey, token: CachedToken)? in
            guard let attributes = try item.attributesUnlessVanished() else { return nil }
            guard let key = TokenKey(kind: attributes["kind"] ?? "", scope: attributes["scope"] ?? "", identity: attributes["identity"] ?? ""),
                  let token = item.secret().flatMap(CachedToken.init(encoded:))
            else { return nil }
            return (key, token)
        }.sorted { $0.token.expiresOn < $1.token.expiresOn }
    }

    public func removeTokens(_ selector: TokenSelector) throws {
        searchedAhead = [:]
        let (name, value) = selector.attribute
        for item in try items([name: value], schema: Self.tokenSchemaName) { try item.delete() }
    }
}

extension CachedToken {
    /// As kept in a keyring item's secret: `EXPIRY [#PROOF ]TOKEN`. The expiry and the fingerprint of the
    /// secret it came from travel with the token, never in the attributes, which anyone on the bus can read.
    /// Tokens (JWTs) and sign-ins (JSON) never start with `#`.
    var encoded: String { "\(expiresOn) " + (proof.map { "#\($0) " } ?? "") + token }

    init?(encoded: String) {
        guard let space = encoded.firstIndex(of: " "), let expiresOn = Int64(encoded[..<space]) else { return nil }
        var rest = encoded[encoded.index(after: space)...]
        var proof: String?
        if rest.hasPrefix("#") {
            guard let end = rest.firstIndex(of: " ") else { return nil }
            proof = String(rest[rest.index(after: rest.startIndex)..<end])
            rest = rest[rest.index(after: end)...]
        }
        self.init(token: String(rest), expiresOn: expiresOn, proof: proof)
    }
}

public enum SecretServiceError: ExplainedError {
    case unreachable(BusFailure)
    case locked
    case noDefaultCollection
    case failed(String, BusFailure)

    public var cause: String {
        switch self {
        case .unreachable(let error):
            "cannot reach a Secret Service (gnome-keyring, KeePassXC) on the session bus (\(error.message))"
        case .locked: "the keyring's default collection is locked and cannot be unlocked without a prompt"
        case .noDefaultCollection: "the Secret Service has no default keyring collection"
        case .failed(let operation, let error): "cannot \(operation) the Secret Service keyring: \(error.message)"
        }
    }

    public var fix: String? {
        switch self {
        case .unreachable:
            "start one in this session, or set DOCKER_CREDENTIAL_ACR_STORE=file to keep credentials in a private file"
        case .locked:
            "unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock` with its password on stdin), "
                + "or set DOCKER_CREDENTIAL_ACR_STORE=file"
        case .noDefaultCollection: "create one (e.g. with Seahorse), or set DOCKER_CREDENTIAL_ACR_STORE=file"
        case .failed: nil
        }
    }
}
