import DockerCredentialProtocol
import ErrorExplanation
import FoundationEssentials
import JSONInput
#if canImport(Glibc)
import Glibc
#endif

/// Credentials in one JSON file, for machines without a Secret Service (servers, CI, containers).
///
/// The file is private to its owner (0600 in a 0700 folder) and refused when it is not. Writers take an
/// exclusive `flock` on a lock file and replace the file by `rename`, so readers never see a half-written
/// file, concurrent writers never lose each other's entries, and a writer killed mid-write leaves the
/// previous file intact.
public struct FileStore: CredentialStore {
    public let directory: String
    public var file: String { directory + "/credentials.json" }
    /// Derived tokens, apart from the credentials so that `list` and `get` never read them.
    public var tokenFile: String { directory + "/tokens.json" }

    public init(directory: String) {
        self.directory = directory
    }

    /// `$XDG_DATA_HOME/docker-credential-acr`, by default `~/.local/share/docker-credential-acr`.
    public static func defaultDirectory(environment: [String: String]) -> String {
        if let dataHome = environment["XDG_DATA_HOME"], dataHome.hasPrefix("/") {
            return dataHome + "/docker-credential-acr"
        }
        return PrivateFile.homeDirectory(environment: environment) + "/.local/share/docker-credential-acr"
    }

    public func credential(for server: ServerAddress) throws -> Credential? {
        try Self.match(server, in: read()).map { url, entry in
            Credential(serverURL: url, username: entry.username, secret: entry.secret)
        }
    }

    public func save(_ credential: Credential, for server: ServerAddress) throws {
        try update { entries in
            for url in entries.keys where ServerAddress.key(of: url) == server.key { entries[url] = nil }
            entries[credential.serverURL] = Entry(username: credential.username, secret: credential.secret)
        }
    }

    public func remove(_ server: ServerAddress) throws -> Bool {
        var removed = false
        try update { entries in
            for url in entries.keys where ServerAddress.key(of: url) == server.key {
                entries[url] = nil
                removed = true
            }
        }
        return removed
    }

    public func allUsernames() throws -> [String: String] {
        try read().mapValues(\.username)
    }

    // MARK: - File format

    struct Entry: Codable, Equatable {
        var username: String
        var secret: String
    }

    /// Versioned so that a later format can be told apart instead of being misread.
    private struct Contents: VersionedFile {
        var version = 1
        var credentials: [String: Entry]
    }

    private struct TokenContents: VersionedFile {
        var version = 1
        var tokens: [String: StoredToken]
    }

    struct StoredToken: Codable {
        var kind: String
        var scope: String
        var identity: String
        var token: String
        var expiresOn: Int64
        var proof: String?
    }

    /// The exact entry when there is one, else any other spelling of the same registry.
    private static func match(_ server: ServerAddress, in entries: [String: Entry]) -> (String, Entry)? {
        if let exact = entries[server.original] { return (server.original, exact) }
        return entries.sorted { $0.key < $1.key }.first { ServerAddress.key(of: $0.key) == server.key }
    }

    private func read() throws -> [String: Entry] {
        try read(Contents.self, from: file)?.credentials ?? [:]
    }

    private func update(_ change: (inout [String: Entry]) throws -> Void) throws {
        try update(file, default: Contents(credentials: [:])) { try change(&$0.credentials) }
    }

    private func read<Contents: VersionedFile>(_ type: Contents.Type, from path: String) throws -> Contents? {
        guard let bytes = try PrivateFile.read(path) else { return nil }
        do {
            let contents = try JSONInput.decode(Contents.self, from: bytes)
            guard contents.version == 1 else { throw FileStoreError.unsupportedVersion(path, contents.version) }
            return contents
        } catch let error as FileStoreError {
            throw error
        } catch {
            throw FileStoreError.corrupt(path)
        }
    }

    /// Read, change and replace `path` under its own exclusive lock.
    private func update<Contents: VersionedFile>(
        _ path: String, default empty: Contents, _ change: (inout Contents) throws -> Void
    ) throws {
        try PrivateFile.makeDirectory(directory)
        let lock = try FileLock.acquireBlocking(path.replacing(".json", with: ".lock"), until: FileLock.storeDeadline)
        defer { lock.release() }
        var contents = try read(Contents.self, from: path) ?? empty
        try change(&contents)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try PrivateFile.replace(path, with: Array(encoder.encode(contents)))
    }
}

extension FileStore: TokenCache {
    public func cachedToken(for key: TokenKey) throws -> CachedToken? {
        try read(TokenContents.self, from: tokenFile)?.tokens[key.id].map {
            CachedToken(token: $0.token, expiresOn: $0.expiresOn, proof: $0.proof)
        }
    }

    public func saveToken(_ token: CachedToken, for key: TokenKey) throws {
        try update(tokenFile, default: TokenContents(tokens: [:])) {
            $0.tokens[key.id] = StoredToken(
                kind: key.kind.rawValue, scope: key.scope, identity: key.identity,
                token: token.token, expiresOn: token.expiresOn, proof: token.proof)
        }
    }

    public func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] {
        try read(TokenContents.self, from: tokenFile)?.tokens.values.sorted { $0.expiresOn < $1.expiresOn }.compactMap {
            guard let key = TokenKey(kind: $0.kind, scope: $0.scope, identity: $0.identity) else { return nil }
            return (key, CachedToken(token: $0.token, expiresOn: $0.expiresOn, proof: $0.proof))
        } ?? []
    }

    /// The folder's checks come with each read and write; there is nothing to lock.
    public func checkWritable() throws {}

    public func removeTokens(_ selector: TokenSelector) throws {
        func selected(_ token: StoredToken) -> Bool { selector.selects(scope: token.scope, identity: token.identity) }
        guard try read(TokenContents.self, from: tokenFile)?.tokens.values.contains(where: selected) == true else { return }
        try update(tokenFile, default: TokenContents(tokens: [:])) {
            $0.tokens = $0.tokens.filter { !selected($0.value) }
        }
    }
}

private protocol VersionedFile: Codable {
    var version: Int { get }
}

public enum FileStoreError: ExplainedError, Equatable {
    case insecure(path: String, mode: UInt32)
    case notOwned(path: String)
    case notRegular(path: String)
    case corrupt(String)
    case unsupportedVersion(String, Int)
    case system(operation: String, path: String, errno: Int32)

    public var cause: String {
        switch self {
        case .insecure(let path, let mode):
            "refusing to use \(path): its mode \(String(mode & 0o777, radix: 8)) lets other users read it"
        case .notOwned(let path): "refusing to use \(path): it belongs to another user"
        case .notRegular(let path): "refusing to use \(path): it is not a regular file or folder (a symbolic link?)"
        case .corrupt(let path): "\(path) is not a valid credentials file"
        case .unsupportedVersion(let path, let version):
            "\(path) has format version \(version), which this docker-credential-acr does not know"
        case .system(let operation, let path, let code): "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        }
    }

    public var fix: String? {
        switch self {
        case .insecure(let path, let mode):
            "run `chmod \(mode & UInt32(S_IFMT) == UInt32(S_IFDIR) ? "700" : "600") \(path)` and check that no one else has read the credentials in it"
        case .notOwned: "remove it or set XDG_DATA_HOME to a folder of your own"
        case .notRegular: "remove it"
        case .corrupt: "move it away (it may hold credentials you need) and log in again"
        case .unsupportedVersion: "upgrade it"
        case .system: nil
        }
    }
}
