import CLibSecret
import DockerCredentialProtocol
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

    public func credential(for server: ServerAddress) throws -> Credential? {
        // Docker asks with the spelling it stored, so the exact match is the usual, one-call path.
        if let found = try first(["server": server.original, "docker_cli": "1"], loadingSecrets: true) {
            return found
        }
        let spellings = try items(["docker_cli": "1"], loadingSecrets: false) { items in
            items.filter { ServerAddress.key(of: $0.server) == server.key }.map(\.server).sorted()
        }
        for spelling in spellings {
            if let found = try first(["server": spelling, "docker_cli": "1"], loadingSecrets: true) { return found }
        }
        try checkUnlocked()
        return nil
    }

    public func save(_ credential: Credential, for server: ServerAddress) throws {
        try checkUnlocked()
        let lock = try writerLock()
        defer { close(lock) }
        try store(
            credential.secret, schema: schema, label: credential.serverURL,
            attributes: [
                "label": Self.dockerLabel, "server": credential.serverURL, "username": credential.username,
                "docker_cli": "1",
            ])
        // Only after the new item is safe: drop other spellings and other usernames of this registry.
        try items(["docker_cli": "1"], loadingSecrets: false) { items in
            for item in items where ServerAddress.key(of: item.server) == server.key
                && (item.server != credential.serverURL || item.username != credential.username) {
                try item.delete()
            }
        }
    }

    public func remove(_ server: ServerAddress) throws -> Bool {
        try checkUnlocked()
        let lock = try writerLock()
        defer { close(lock) }
        return try items(["docker_cli": "1"], loadingSecrets: false) { items in
            var removed = false
            for item in items where ServerAddress.key(of: item.server) == server.key {
                try item.delete()
                removed = true
            }
            return removed
        }
    }

    public func allUsernames() throws -> [String: String] {
        let all = try items(["label": Self.dockerLabel, "docker_cli": "1"], loadingSecrets: false) { items in
            Dictionary(items.map { ($0.server, $0.username) }, uniquingKeysWith: { first, _ in first })
        }
        if all.isEmpty { try checkUnlocked() }
        return all
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

    /// A search result, valid only inside the closure it is passed to.
    struct Item {
        let pointer: UnsafeMutablePointer<SecretItem>
        let server: String
        let username: String
        /// Of a token item.
        let kind: String
        let scope: String
        let identity: String

        func delete() throws(SecretServiceError) {
            var error: UnsafeMutablePointer<GError>?
            guard secret_item_delete_sync(pointer, nil, &error) != 0 else {
                throw .failed("delete", GLibError.take(error))
            }
        }

        func secret() -> String? {
            guard let value = secret_item_get_secret(pointer) else { return nil }
            defer { secret_value_unref(UnsafeMutableRawPointer(value)) }
            var length = 0
            guard let bytes = secret_value_get(value, &length) else { return nil }
            return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
        }
    }

    private func first(_ attributes: [String: String], loadingSecrets: Bool) throws -> Credential? {
        try items(attributes, schema: schema, loadingSecrets: loadingSecrets) { items in
            items.lazy.compactMap { item in
                item.secret().map { Credential(serverURL: item.server, username: item.username, secret: $0) }
            }.first
        }
    }

    /// Every unlocked item of the Docker schema with `attributes`. Never prompts: a headless machine has
    /// no prompter, and a locked collection is reported by `checkUnlocked` instead.
    @discardableResult
    private func items<T>(
        _ attributes: [String: String], schema: UnsafeMutablePointer<SecretSchema>? = nil, loadingSecrets: Bool,
        _ body: ([Item]) throws -> T
    ) throws -> T {
        let schema = schema ?? self.schema
        let table = GHashTableBuilder(freeValues: true)
        for (name, value) in attributes { table.insert(name, value) }
        let flags = SECRET_SEARCH_ALL.rawValue | (loadingSecrets ? SECRET_SEARCH_LOAD_SECRETS.rawValue : 0)
        var error: UnsafeMutablePointer<GError>?
        let list = secret_service_search_sync(
            UnsafeMutablePointer(service), schema, table.table, SecretSearchFlags(rawValue: flags), nil, &error)
        if let error { throw SecretServiceError.failed("search", GLibError.take(error)) }
        defer { g_list_free_full(list, g_object_unref) }
        var items: [Item] = []
        var node = list
        while let current = node {
            if let data = current.pointee.data {
                let item = data.assumingMemoryBound(to: SecretItem.self)
                let values = secret_item_get_attributes(item)
                defer { g_hash_table_unref(values) }
                func value(_ name: String) -> String {
                    g_hash_table_lookup(values, name).map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? ""
                }
                items.append(Item(
                    pointer: item, server: value("server"), username: value("username"),
                    kind: value("kind"), scope: value("scope"), identity: value("identity")))
            }
            node = current.pointee.next
        }
        return try body(items)
    }

    private func writerLock() throws(FileStoreError) -> Int32 {
        try PrivateFile.makeDirectory(lockDirectory)
        return try PrivateFile.lock(lockDirectory + "/keyring.lock")
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
        return try items(attributes, schema: tokenSchema, loadingSecrets: true) { items in
            items.lazy.compactMap { $0.secret() }.compactMap(CachedToken.init(encoded:)).first
        }
    }

    public func saveToken(_ token: CachedToken, for key: TokenKey) throws {
        try store(
            token.encoded, schema: tokenSchema, label: "docker-credential-acr \(key.kind.rawValue) for \(key.scope)",
            attributes: ["kind": key.kind.rawValue, "scope": key.scope, "identity": key.identity])
    }

    public func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] {
        try items([:], schema: tokenSchema, loadingSecrets: true) { items in
            items.compactMap { item -> (key: TokenKey, token: CachedToken)? in
                guard let key = TokenKey(kind: item.kind, scope: item.scope, identity: item.identity),
                      let token = item.secret().flatMap(CachedToken.init(encoded:))
                else { return nil }
                return (key, token)
            }.sorted { $0.token.expiresOn < $1.token.expiresOn }
        }
    }

    public func removeTokens(scope: String) throws {
        try items(["scope": scope], schema: tokenSchema, loadingSecrets: false) { items in
            for item in items { try item.delete() }
        }
    }
}

extension CachedToken {
    /// As kept in a keyring item's secret: the expiry travels with the token.
    var encoded: String { "\(expiresOn) \(token)" }

    init?(encoded: String) {
        guard let space = encoded.firstIndex(of: " "), let expiresOn = Int64(encoded[..<space]) else { return nil }
        self.init(token: String(encoded[encoded.index(after: space)...]), expiresOn: expiresOn)
    }
}

public enum SecretServiceError: Error, CustomStringConvertible {
    case unreachable(GLibError)
    case locked
    case noDefaultCollection
    case failed(String, GLibError)

    public var description: String {
        switch self {
        case .unreachable(let error):
            "cannot reach a Secret Service (gnome-keyring, KeePassXC) on the session bus (\(error.message)); "
                + "start one in this session, or set DOCKER_CREDENTIAL_ACR_STORE=file to keep credentials in a private file"
        case .locked:
            "the keyring's default collection is locked and cannot be unlocked without a prompt; unlock it "
                + "(log in to the desktop, or `gnome-keyring-daemon --unlock` with its password on stdin), "
                + "or set DOCKER_CREDENTIAL_ACR_STORE=file"
        case .noDefaultCollection:
            "the Secret Service has no default keyring collection; create one (e.g. with Seahorse), "
                + "or set DOCKER_CREDENTIAL_ACR_STORE=file"
        case .failed(let operation, let error):
            "cannot \(operation) the Secret Service keyring: \(error.message)"
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
