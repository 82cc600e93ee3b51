import ErrorExplanation
import DockerCredentialProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Which store holds the credentials, from `DOCKER_CREDENTIAL_ACR_STORE`.
public enum StoreChoice: String, CaseIterable, Sendable {
    case secretService = "secretservice"
    case file
    /// The Secret Service when one answers on the session bus, the file store otherwise.
    case auto

    public static let variable = "DOCKER_CREDENTIAL_ACR_STORE"

    public init(environment: [String: String]) throws(StoreChoiceError) {
        let value = environment[Self.variable] ?? ""
        if value.isEmpty {
            self = .auto
        } else if let choice = StoreChoice(rawValue: value.lowercased()) {
            self = choice
        } else {
            throw .unknown(value)
        }
    }

    public func open(environment: [String: String]) throws -> any CredentialAndTokenStore {
        try openExplained(environment: environment).store
    }

    /// The store `open` gives, with why the keyring was passed over when `auto` fell back to the file.
    public func openExplained(environment: [String: String]) throws -> (store: any CredentialAndTokenStore, keyringProblem: SecretServiceError?) {
        let file = FileStore(directory: FileStore.defaultDirectory(environment: environment))
        switch self {
        case .file: return (file, nil)
        case .secretService: return (try SecretServiceStore(lockDirectory: Self.lockDirectory(environment), environment: environment), nil)
        case .auto:
            do {
                return (try SecretServiceStore(lockDirectory: Self.lockDirectory(environment), environment: environment), nil)
            } catch {
                return (file, error)
            }
        }
    }

    /// Where keyring writers take their lock: the per-user runtime folder when there is one.
    public static func lockDirectory(_ environment: [String: String]) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/"), access(runtime, W_OK) == 0 {
            return runtime + "/docker-credential-acr"
        }
        return FileStore.defaultDirectory(environment: environment)
    }
}

public enum StoreChoiceError: ExplainedError {
    case unknown(String)

    public var cause: String {
        switch self {
        case .unknown(let value): "\(StoreChoice.variable)='\(value)' is not a store"
        }
    }

    public var fix: String? { "use secretservice, file or auto (the default)" }
}
