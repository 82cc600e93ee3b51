import CLibSecret
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
    private let service: OpaquePointer
    private let schema: UnsafeMutablePointer<SecretSchema>
    private let tokenSchema: UnsafeMutablePointer<SecretSchema>
    private let lockDirectory: String

    static let schemaName = "io.docker.Credentials"
    static let dockerLabel = "Docker Credentials"
    /// Derived tokens: a schema of our own, so Docker's helper and `list` never see them.
    static let tokenSchemaName = "io.github.docker-credential-acr.Token"

    /// Connects to the Secret Service on the session bus; throws when none answers.
    public init(lockDirectory: String) throws(SecretServiceError) {
        self.lockDirectory = lockDirectory
        var error: UnsafeMutablePointer<GError>?
        guard let service = secret_service_get_sync(SECRET_SERVICE_OPEN_SESSION, nil, &error) else {
            throw .unreachable(GLibError.take(error))
        }
        self.service = OpaquePointer(service)
        schema = Self.schema(Self.schemaName, attributes: ["label", "server", "username", "docker_cli"])
        tokenSchema = Self.schema(Self.tokenSchemaName, attributes: ["kind", "scope", "identity"])
    }

    private static func schema(_ name: String, attributes: [String]) -> UnsafeMutablePointer<SecretSchema> {
        let types = GHashTableBuilder(freeValues: false)
        // SECRET_SCHEMA_ATTRIBUTE_STRING is 0, stored as a NULL value.
        for attribute in attributes { types.insert(attribute, nil) }
        return secret_schema_newv(name, SECRET_SCHEMA_NONE, types.table)
    }

    deinit {
        secret_schema_unref(schema)
        secret_schema_unref(tokenSchema)
        g_object_unref(UnsafeMutableRawPointer(service))
    }

    /// A locked item is reported as `.locked`, not as "not found": libsecret's lookups cannot tell them apart.
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
        try checkUnlocked()
        let lock = try writerLock()
        defer { lock.release() }
        try store(
            credential.secret, schema: schema, label: credential.serverURL,
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

    // MARK: - libsecret

    /// Stores `secret`, replacing an item with exactly these attributes.
    private func store(
        _ secret: String, schema: UnsafeMutablePointer<SecretSchema>, label: String, attributes: [String: String]
    ) throws(SecretServiceError) {
        let table = GHashTableBuilder(freeValues: true)
        for (name, value) in attributes { table.insert(name, value) }
        let value = secret_value_new(secret, -1, "text/plain")
        defer { secret_value_unref(UnsafeMutableRawPointer(value)) }
        var error: UnsafeMutablePointer<GError>?
        let stored = secret_service_store_sync(
            UnsafeMutablePointer(service), schema, table.table, SECRET_COLLECTION_DEFAULT, label, value, nil, &error)
        guard stored != 0 else { throw .failed("store", GLibError.take(error)) }
    }

    /// A search result: an item's D-Bus path. Its attributes and secret are read by path, each with one
    /// D-Bus call; libsecret's item proxies would cost four calls per item before anything is read.
    struct Item {
        let path: String
        let service: OpaquePointer
        let isLocked: Bool

        /// Nil when the item no longer exists: another process deleted it after the search found it.
        func attributesUnlessVanished() throws(SecretServiceError) -> [String: String]? {
            var error: UnsafeMutablePointer<GError>?
            let proxy = UnsafeMutablePointer<GDBusProxy>(service)
            var arguments = [g_variant_new_string("org.freedesktop.Secret.Item"), g_variant_new_string("Attributes")]
            let reply = g_dbus_connection_call_sync(
                g_dbus_proxy_get_connection(proxy), g_dbus_proxy_get_name(proxy), path, "org.freedesktop.DBus.Properties",
                "Get", g_variant_new_tuple(&arguments, 2), nil, G_DBUS_CALL_FLAGS_NONE, -1, nil, &error)
            guard let reply else {
                let failure = GLibError.take(error)
                if failure.isNoSuchObject { return nil }
                throw .failed("read an item of", failure)
            }
            defer { g_variant_unref(reply) }
            let boxed = g_variant_get_child_value(reply, 0)
            defer { g_variant_unref(boxed) }
            let dictionary = g_variant_get_variant(boxed)
            defer { g_variant_unref(dictionary) }
            var attributes: [String: String] = [:]
            for index in 0..<g_variant_n_children(dictionary) {
                let entry = g_variant_get_child_value(dictionary, index)
                defer { g_variant_unref(entry) }
                let key = g_variant_get_child_value(entry, 0)
                let value = g_variant_get_child_value(entry, 1)
                defer { g_variant_unref(key); g_variant_unref(value) }
                attributes[String(cString: g_variant_get_string(key, nil))] = String(cString: g_variant_get_string(value, nil))
            }
            return attributes
        }

        /// Nil for a locked item.
        func secret() -> String? {
            guard !isLocked else { return nil }
            let value = secret_service_get_secret_for_dbus_path_sync(UnsafeMutablePointer(service), path, nil, nil)
            guard let value else { return nil }
            defer { secret_value_unref(UnsafeMutableRawPointer(value)) }
            var length = 0
            guard let bytes = secret_value_get(value, &length) else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
        }

        func delete() throws(SecretServiceError) {
            var error: UnsafeMutablePointer<GError>?
            guard secret_service_delete_item_dbus_path_sync(UnsafeMutablePointer(service), path, nil, &error) != 0 else {
                throw .failed("delete", GLibError.take(error))
            }
        }
    }

    /// Every Docker item with its server and user name: one search, plus one read for each item that the
    /// index does not know yet.
    private func dockerItems() throws -> [(Item, KeyringItemIndex.Entry)] {
        let proxy = UnsafeMutablePointer<GDBusProxy>(service)
        let guid = g_dbus_connection_get_guid(g_dbus_proxy_get_connection(proxy)).map { String(cString: $0) } ?? ""
        let owner = g_dbus_proxy_get_name_owner(proxy)
        defer { g_free(owner) }
        let daemon = guid + " " + (owner.map { String(cString: $0) } ?? "")
        let path = lockDirectory + "/keyring-items"
        let stored = KeyringItemIndex.load(path, daemon: daemon)
        var index = KeyringItemIndex(daemon: daemon, items: [:])
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

    /// Every item of the schema with `attributes`, locked or not (one D-Bus call). Never prompts: a
    /// headless machine has no prompter, and a locked collection is reported by `checkUnlocked` instead.
    private func items(_ attributes: [String: String], schema: UnsafeMutablePointer<SecretSchema>? = nil) throws -> [Item] {
        let table = GHashTableBuilder(freeValues: true)
        for (name, value) in attributes { table.insert(name, value) }
        var unlocked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?
        var locked: UnsafeMutablePointer<UnsafeMutablePointer<gchar>?>?
        var error: UnsafeMutablePointer<GError>?
        guard secret_service_search_for_dbus_paths_sync(
            UnsafeMutablePointer(service), schema ?? self.schema, table.table, nil, &unlocked, &locked, &error) != 0
        else { throw SecretServiceError.failed("search", GLibError.take(error)) }
        defer { g_strfreev(unlocked); g_strfreev(locked) }
        var items: [Item] = []
        for (list, isLocked) in [(unlocked, false), (locked, true)] {
            var entry = list
            while let path = entry?.pointee {
                items.append(Item(path: String(cString: path), service: service, isLocked: isLocked))
                entry = entry?.advanced(by: 1)
            }
        }
        return items
    }

    private func writerLock() throws -> FileLock {
        try FileLock.acquireBlocking(lockDirectory + "/keyring.lock", until: FileLock.storeDeadline)
    }

    /// Throws `.locked` when the default collection is locked: lookups then look like "not found".
    public func checkUnlocked() throws(SecretServiceError) {
        var error: UnsafeMutablePointer<GError>?
        let collection = secret_collection_for_alias_sync(
            UnsafeMutablePointer(service), SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE, nil, &error)
        if let error { throw .failed("open the default collection of", GLibError.take(error)) }
        guard let collection else { throw .noDefaultCollection }
        defer { g_object_unref(collection) }
        if secret_collection_get_locked(collection) != 0 { throw .locked }
    }
}

extension SecretServiceStore: TokenCache {
    public func cachedToken(for key: TokenKey) throws -> CachedToken? {
        let attributes = ["kind": key.kind.rawValue, "scope": key.scope, "identity": key.identity]
        // A plain loop: `.lazy…first` on a collection evaluates its transform up to three times, and each
        // evaluation here is a D-Bus call.
        for item in try items(attributes, schema: tokenSchema) {
            // Locked, it would read as "no token" and a new one would be derived only to fail at saving.
            if item.isLocked { throw SecretServiceError.locked }
            if let token = item.secret().flatMap(CachedToken.init(encoded:)) { return token }
        }
        return nil
    }

    public func checkWritable() throws {
        try checkUnlocked()
    }

    public func saveToken(_ token: CachedToken, for key: TokenKey) throws {
        try checkUnlocked()
        try store(
            token.encoded, schema: tokenSchema, label: "docker-credential-acr \(key.kind.rawValue) for \(key.scope)",
            attributes: ["kind": key.kind.rawValue, "scope": key.scope, "identity": key.identity])
    }

    public func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] {
        try items([:], schema: tokenSchema).compactMap { item -> (key: TokenKey, token: CachedToken)? in
            guard let attributes = try item.attributesUnlessVanished() else { return nil }
            guard let key = TokenKey(kind: attributes["kind"] ?? "", scope: attributes["scope"] ?? "", identity: attributes["identity"] ?? ""),
                  let token = item.secret().flatMap(CachedToken.init(encoded:))
            else { return nil }
            return (key, token)
        }.sorted { $0.token.expiresOn < $1.token.expiresOn }
    }

    public func removeTokens(_ selector: TokenSelector) throws {
        let (name, value) = selector.attribute
        for item in try items([name: value], schema: tokenSchema) { try item.delete() }
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
    case unreachable(GLibError)
    case locked
    case noDefaultCollection
    case failed(String, GLibError)

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

/// A GError copied into Swift; the original is freed.
public struct GLibError: Error, Sendable {
    public let domain: String
    public let code: Int32
    public let message: String

    static func take(_ error: UnsafeMutablePointer<GError>?) -> GLibError {
        guard let error else { return GLibError(domain: "", code: 0, message: "unknown error") }
        defer { g_error_free(error) }
        return GLibError(
            domain: String(cString: g_quark_to_string(error.pointee.domain)),
            code: error.pointee.code,
            message: String(cString: error.pointee.message))
    }
}

extension GLibError {
    /// D-Bus's answer for an object path that does not exist (any more): gnome-keyring unexports a deleted
    /// item, so calls on its path fail as an unknown method, object or interface.
    var isNoSuchObject: Bool {
        domain == "g-dbus-error-quark" && [G_DBUS_ERROR_UNKNOWN_METHOD, G_DBUS_ERROR_UNKNOWN_OBJECT, G_DBUS_ERROR_UNKNOWN_INTERFACE]
            .map { Int32($0.rawValue) }.contains(code)
    }
}

/// A string-keyed GHashTable that owns copies of its keys (and values, when asked).
final class GHashTableBuilder {
    let table: OpaquePointer

    init(freeValues: Bool) {
        table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, freeValues ? g_free : nil)
    }

    deinit { g_hash_table_unref(table) }

    func insert(_ key: String, _ value: String?) {
        g_hash_table_insert(table, g_strdup(key), value.map { UnsafeMutableRawPointer(g_strdup($0)) } ?? nil)
    }
}
