import CredentialStores
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Appends log lines to `$XDG_STATE_HOME/docker-credential-acr/log` (0600 in a 0700 folder), where the
/// details of a failed `get` wait for whoever debugs it. Nothing secret is ever passed to the logger:
/// messages carry server names, identity kinds and ids, expiry times and error descriptions only.
public struct FileLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let path: String

    public init(path: String) {
        self.path = path
    }

    public static func defaultPath(environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/docker-credential-acr/log" }
        return (environment["HOME"] ?? "") + "/.local/state/docker-credential-acr/log"
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let line = "\(now.tv_sec) pid=\(getpid()) \(event.level) \(event.message)\(fields.isEmpty ? "" : " " + fields)\n"
        append(line)
    }

    /// Best effort: a log that cannot be written must never fail the credential request. A log that
    /// others could read gets nothing, and stderr says so once.
    private func append(_ line: String) {
        let fd: Int32
        do {
            fd = try PrivateFile.openForAppending(path)
        } catch {
            Self.warnOnce("not writing the log: \(error)")
            return
        }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    nonisolated(unsafe) private static var warned = false

    private static func warnOnce(_ message: String) {
        guard !warned else { return }
        warned = true
        let bytes = Array("docker-credential-acr: \(message)\n".utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
