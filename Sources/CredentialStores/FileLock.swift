import ErrorExplanation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock between processes, held until `release` or the process's end. Used so that parallel
/// `get`s for one registry derive its token once: the others wait, then find it cached.
public final class FileLock {
    private var descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { release() }

    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    /// Waits for the lock at `path` (its folder is created private), at most until `deadline`.
    public static func acquire(_ path: String, until deadline: ContinuousClock.Instant) async throws -> FileLock {
        try PrivateFile.makeDirectory(PrivateFile.folder(of: path))
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileStoreError.system(operation: "open", path: path, errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(fd)
                throw FileLockError.timedOut(path)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return FileLock(descriptor: fd)
    }
}

public enum FileLockError: ExplainedError {
    case timedOut(String)

    public var cause: String {
        switch self {
        case .timedOut(let path): "another docker-credential-acr held \(path) for longer than the time allowed"
        }
    }

    public var fix: String? { "try again, or end the stuck process" }
}
