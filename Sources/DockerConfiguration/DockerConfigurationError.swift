/// Why `configure` left Docker's configuration alone: one line that names the file and what to do next.
public enum DockerConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
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

    public var description: String {
        switch self {
        case .invalidJSON(let path, let detail):
            "\(path) is not valid JSON (\(detail)); fix it by hand, then run configure again"
        case .notAnObject(let path, let kind):
            "\(path) holds \(kind), not a JSON object; Docker cannot read it either: fix it by hand or move it away"
        case .unexpectedType(let path, let key, let expected):
            "\(key) in \(path) is not \(expected), so Docker cannot read the file either; fix or remove it by hand"
        case .invalidBackup(let path, let detail):
            "the backup \(path) is not a Docker configuration (\(detail)); remove it to undo without it (entries naming acr are then removed)"
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason); check its owner and mode (ls -l \(path))"
        case .unwritable(let path, let reason):
            "cannot write \(path): \(reason); check the owner and mode of the file and its folder"
        case .danglingLink(let path, let destination):
            "\(path) is a symbolic link to \(destination), which does not exist; create that file or remove the link"
        case .notRegularFile(let path):
            "\(path) is not a regular file; point DOCKER_CONFIG at a folder whose config.json is one"
        case .notOwned(let path, let owner, let user):
            "\(path) belongs to user \(owner), not to you (\(user)); run configure as that user (not with sudo)"
        case .invalidRegistry(let registry, let reason):
            "cannot configure registry '\(registry)': \(reason)"
        case .noRegistry:
            "no registry given; name one or more with --registry SERVER, or use --global for all"
        case .changedSincePlanned(let path):
            "\(path) changed while configure was working on it; run configure again"
        }
    }
}
