import ErrorExplanation
/// Why `configure` left Docker's configuration alone: one line that names the file and what to do next.
public enum DockerConfigurationError: ExplainedError, Equatable, Sendable {
    /// The file is not JSON; `detail` says where.
    case invalidJSON(path: String, detail: String)
    /// The file is JSON but not an object (`kind` is what it is instead: "an array", "a string", …).
    case notAnObject(path: String, kind: String)
    /// `credsStore` or `credHelpers` has a type Docker itself could not read.
    case unexpectedType(path: String, key: String, expected: String)
    /// The backup `undo` needs is not a Docker configuration.
    case invalidBackup(path: String, detail: String)
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    /// A symbolic link to nothing: which file is meant is unclear.
    case danglingLink(path: String, destination: String)
    case notRegularFile(path: String)
    /// Replacing the file would hand it to us; it belongs to `owner`.
    case notOwned(path: String, owner: UInt32, user: UInt32)
    case invalidRegistry(String, reason: String)
    case noRegistry
    /// The file changed between `plan` and `apply`; writing would lose that change.
    case changedSincePlanned(path: String)

    public var cause: String {
        switch self {
        case .invalidJSON(let path, let detail): "\(path) is not valid JSON (\(detail))"
        case .notAnObject(let path, let kind): "\(path) holds \(kind), not a JSON object"
        case .unexpectedType(let path, let key, let expected):
            "\(key) in \(path) is not \(expected), so Docker cannot read the file either"
        case .invalidBackup(let path, let detail): "the backup \(path) is not a Docker configuration (\(detail))"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .unwritable(let path, let reason): "cannot write \(path): \(reason)"
        case .danglingLink(let path, let destination): "\(path) is a symbolic link to \(destination), which does not exist"
        case .notRegularFile(let path): "\(path) is not a regular file"
        case .notOwned(let path, let owner, let user): "\(path) belongs to user \(owner), not to you (\(user))"
        case .invalidRegistry(let registry, let reason): "cannot configure registry '\(registry)': \(reason)"
        case .noRegistry: "no registry given"
        case .changedSincePlanned(let path): "\(path) changed while configure was working on it"
        }
    }

    public var fix: String? {
        switch self {
        case .invalidJSON: "fix it by hand, then run configure again"
        case .notAnObject: "Docker cannot read it either: fix it by hand or move it away"
        case .unexpectedType: "fix or remove it by hand"
        case .invalidBackup: "remove it to undo without it (entries naming acr are then removed)"
        case .unreadable(let path, _): "check its owner and mode (ls -l \(path))"
        case .unwritable: "check the owner and mode of the file and its folder"
        case .danglingLink: "create that file or remove the link"
        case .notRegularFile: "point DOCKER_CONFIG at a folder whose config.json is one"
        case .notOwned: "run configure as that user (not with sudo)"
        case .invalidRegistry: nil
        case .noRegistry: "name one or more with --registry SERVER, or use --global for all"
        case .changedSincePlanned: "run configure again"
        }
    }
}
