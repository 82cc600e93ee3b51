import DockerCredentialProtocol
import ErrorExplanation
import FoundationEssentials
import JSONInput
import SystemIO

/// The parts of Docker's `config.json` that decide where a registry's credentials come from.
public struct DockerConfigFile: Sendable {
    public struct AuthEntry: Decodable, Sendable {
        public var auth: String?
        public var identitytoken: String?
        public var password: String?

        /// Whether the entry holds a credential itself rather than just marking a login (`{}`).
        public var holdsCredential: Bool {
            [auth, identitytoken, password].contains { $0.map { !$0.isEmpty } ?? false }
        }
    }

    private struct Contents: Decodable {
        var auths: [String: AuthEntry]?
        var credsStore: String?
        var credHelpers: [String: String]?
    }

    public let path: String
    public let auths: [String: AuthEntry]
    public let credsStore: String?
    public let credHelpers: [String: String]

    public init(path: String, contents bytes: [UInt8]) throws(DockerConfigError) {
        guard let contents = try? JSONInput.decode(Contents.self, from: bytes) else {
            throw .invalid(path)
        }
        self.path = path
        auths = contents.auths ?? [:]
        credsStore = contents.credsStore.flatMap { $0.isEmpty ? nil : $0 }
        credHelpers = contents.credHelpers ?? [:]
    }

    /// Reads the file; nil when there is none.
    public static func load(path: String) throws(DockerConfigError) -> DockerConfigFile? {
        let bytes: [UInt8]?
        do {
            bytes = try FileDescriptorReader.contents(of: path, limit: 4 << 20)
        } catch {
            throw .unreadable(path, error.description)
        }
        return try bytes.map { bytes throws(DockerConfigError) in try DockerConfigFile(path: path, contents: bytes) }
    }

    /// The helper named for `host` in `credHelpers`, which wins over `credsStore` in every client.
    public func credentialHelper(for host: String) -> String? {
        credHelpers.first { ServerAddress.key(of: $0.key) == ServerAddress.key(of: host) }?.value
    }

    /// The `auths` entry for `host` that holds a credential of its own.
    public func inlineCredential(for host: String) -> String? {
        auths.first { ServerAddress.key(of: $0.key) == ServerAddress.key(of: host) && $0.value.holdsCredential }?.key
    }

    /// Every registry the file names.
    public var registries: [String] { Array(auths.keys) + Array(credHelpers.keys) }
}

public enum DockerConfigError: ExplainedError, Sendable {
    case invalid(String)
    case unreadable(String, String)

    public var fix: String? { nil }

    public var cause: String {
        switch self {
        case .invalid(let path): "\(path) is not a valid Docker configuration (not a JSON object of the expected shape)"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        }
    }
}
