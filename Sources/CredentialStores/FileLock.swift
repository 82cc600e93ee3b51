import ErrorExplanation
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock between processes, held until `release` or the process's end: the single flight of
/// a registry's token renewal, and the writers of each store. Every wait has a deadline, and the holder
/// writes its pid into the lock file, so that a waiter that gives up can say who holds it.
public final class FileLock {
    private var descriptor: Int32
    public let path: String
    /// Whether another process held the lock when this one asked for it.
    public let waited: Bool

    private init(descriptor: Int32, path: String, waited: Bool) {
        self.descriptor = descriptor
        self.path = path
        self.waited = waited
    }

    deinit { release() }

    public func release() {
        guard descriptor >= 0 else { return }
        // The pid goes with the lock: a file naming a process that holds nothing would mislead.
        _ = ftruncate(descriptor, 0)
        close(descriptor)
        descriptor = -1
    }

    /// How long a store's writer waits for another: a write takes milliseconds.
    public static let storePatience: Duration = .seconds(10)
    /// Set by a caller with a request budget (a `get` caching what it derived): its writes wait no longer.
    @TaskLocal public static var budgetDeadline: ContinuousClock.Instant?

    /// When a store's writer gives up waiting: after `storePatience`, or at the budget's deadline if sooner.
    public static var storeDeadline: ContinuousClock.Instant {
        let patience = ContinuousClock.now + storePatience
        return budgetDeadline.map { min($0, patience) } ?? patience
    }

    /// Waits for the lock at `path` (its folder is created private), at most until `deadline`, without
    /// blocking the thread.
    public static func acquire(_ path: String, until deadline: ContinuousClock.Instant) async throws -> FileLock {
        try await acquire(path, until: deadline) { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// The same for the synchronous code of the stores.
    public static func acquireBlocking(_ path: String, until deadline: ContinuousClock.Instant) throws -> FileLock {
        let fd = try open(path)
        var waited = false
        while !tryLock(fd) {
            waited = true
            guard ContinuousClock.now < deadline else { throw timedOut(fd, path) }
            usleep(10_000)
        }
        return claimed(fd, path, waited: waited)
    }

    private static func acquire(
        _ path: String, until deadline: ContinuousClock.Instant, pause: () async -> Void
    ) async throws -> FileLock {
        let fd = try open(path)
        var waited = false
        while !tryLock(fd) {
            waited = true
            guard ContinuousClock.now < deadline else { throw timedOut(fd, path) }
            await pause()
        }
        return claimed(fd, path, waited: waited)
    }

    private static func open(_ path: String) throws -> Int32 {
        try PrivateFile.makeDirectory(PrivateFile.folder(of: path))
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileStoreError.system(operation: "open", path: path, errno: errno) }
        return fd
    }

    private static func tryLock(_ fd: Int32) -> Bool {
        flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    /// The holder's pid, for the waiters that give up.
    private static func claimed(_ fd: Int32, _ path: String, waited: Bool) -> FileLock {
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return FileLock(descriptor: fd, path: path, waited: waited)
    }

    private static func timedOut(_ fd: Int32, _ path: String) -> FileLockError {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        close(fd)
        let text = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        // Named only while that pid is a docker-credential-acr: one that died left its pid, and pids are reused.
        let holder = Int32(text.filter(\.isNumber)).flatMap { pid in
            let command = (try? FileDescriptorReader.contents(of: "/proc/\(pid)/cmdline", limit: 4096)) ?? []
            let program = command.split(separator: 0).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
            return program.split(separator: "/").last?.hasPrefix("docker-credential-acr") == true ? pid : nil
        }
        return .timedOut(path, holder: holder)
    }

    // MARK: - A failed renewal, for those who waited for it

    /// Notes why the holder's renewal failed, beside the lock, for the processes that waited for it: they
    /// report that cause instead of asking Azure again, all at once.
    public func recordFailure(_ note: String) {
        try? PrivateFile.replace(path + ".failed", with: Array(note.utf8), durable: false)
    }

    /// The note of a failed renewal, if one was written since `since` (seconds since 1970, by mtime).
    public func failure(since: Int64) -> String? {
        var info = stat()
        guard stat(path + ".failed", &info) == 0, Int64(info.st_mtim.tv_sec) >= since,
              let bytes = try? PrivateFile.read(path + ".failed")
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

public enum FileLockError: ExplainedError {
    case timedOut(String, holder: Int32?)

    public var cause: String {
        switch self {
        case .timedOut(let path, let holder):
            "another docker-credential-acr\(holder.map { " (pid \($0))" } ?? "") held \(path) for longer than the time allowed"
        }
    }

    public var fix: String? {
        switch self {
        case .timedOut(_, let holder):
            "try again; if that process is stuck (stopped with Ctrl-Z, or hung), end it" + (holder.map { ": kill \($0)" } ?? "")
        }
    }
}
