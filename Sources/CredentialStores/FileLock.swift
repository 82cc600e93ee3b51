import ErrorExplanation
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock between processes, held until `release` or the process's end: the single flight of
/// a registry's token renewal, and the writers of each store. Every wait has a deadline, and the holder
/// writes its pid into the lock file, so that a waiter that gives up can say who holds it.
/// Sendable as it is handed from the thread that waited for it; one task at a time uses it.
public final class FileLock: @unchecked Sendable {
    private var descriptor: Int32
    public let path: String
    /// Whether another process held the lock when this one asked for it.
    public let waited: Bool
    /// Whether it was handed over by the program that exec'd this one: held since before this one began.
    public let inherited: Bool

    private init(descriptor: Int32, path: String, waited: Bool, inherited: Bool = false) {
        self.descriptor = descriptor
        self.path = path
        self.waited = waited
        self.inherited = inherited
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

    /// Waits for the lock at `path` (its folder is created private), at most until `deadline`, on a thread
    /// of its own.
    public static func acquire(_ path: String, until deadline: ContinuousClock.Instant) async throws -> FileLock {
        try await DetachedThread.run { Result { try acquireBlocking(path, until: deadline) } }.get()
    }

    /// The same for the synchronous code of the stores.
    public static func acquireBlocking(_ path: String, until deadline: ContinuousClock.Instant) throws -> FileLock {
        if let fd = handedOver(for: path) { return claimed(fd, path, waited: false, inherited: true) }
        let fd = try open(path)
        return claimed(fd, path, waited: try lock(fd, path, until: deadline))
    }

    /// The lock at `path` if no other process holds it; nil at once when one does.
    public static func acquireIfFree(_ path: String) throws -> FileLock? {
        let fd = try open(path)
        guard tryLock(fd) else {
            close(fd)
            return nil
        }
        return claimed(fd, path, waited: false)
    }

    /// Waits, without taking it, while another process holds the lock at `path`; throws as `acquire` does
    /// when it is still held at `deadline`.
    public static func waitWhileHeld(_ path: String, until deadline: ContinuousClock.Instant) throws {
        let fd = try open(path)
        _ = try lock(fd, path, shared: true, until: deadline)
        close(fd)
    }

    /// Locks `fd` once no other process holds the lock, at most until `deadline` (then `fd` is closed and
    /// the holder named); returns whether it had to wait.
    private static func lock(_ fd: Int32, _ path: String, shared: Bool = false, until deadline: ContinuousClock.Instant) throws -> Bool {
        var watch: ReleaseWatch?
        while !tryLock(fd, shared: shared) {
            guard ContinuousClock.now < deadline else { throw timedOut(fd, path) }
            // Watching before the next try: a release in between is not missed.
            if let watch { watch.wait(until: deadline) } else { watch = ReleaseWatch(path) }
        }
        return watch != nil
    }

    // MARK: - Held across an exec

    /// Names the descriptor of a lock held across an exec (the binary without a network hands its renewal
    /// to the engine), so that no other process finds the lock free in between.
    public static let handOverVariable = "DOCKER_CREDENTIAL_ACR_HELD_LOCK"
    private static let handedOver = Mutex<Int32>(-1)

    /// Keeps the lock held by the program this process execs next, which takes it with `takeHandedOver`.
    public func handOver() {
        guard descriptor >= 0, fcntl(descriptor, F_SETFD, 0) == 0 else { return }
        setenv(Self.handOverVariable, String(descriptor), 1)
        descriptor = -1
    }

    /// First thing in the engine: the descriptor handed over, kept from its child processes and from the
    /// variable's next reader; `acquire` of the same file then returns it.
    public static func takeHandedOver() {
        guard let text = getenv(handOverVariable).map({ String(cString: $0) }) else { return }
        unsetenv(handOverVariable)
        guard let fd = Int32(text), fd > 2, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { return }
        handedOver.withLock { $0 = fd }
    }

    /// The handed-over descriptor, when it is the lock file at `path`.
    private static func handedOver(for path: String) -> Int32? {
        handedOver.withLock { fd in
            var held = stat()
            var named = stat()
            guard fd >= 0, fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_dev == named.st_dev, held.st_ino == named.st_ino
            else { return nil }
            defer { fd = -1 }
            return fd
        }
    }

    private static func open(_ path: String) throws -> Int32 {
        try PrivateFile.makeDirectory(PrivateFile.folder(of: path))
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileStoreError.system(operation: "open", path: path, errno: errno) }
        return fd
    }

    /// A shared lock only tells that no one holds the exclusive one; it is given back with the descriptor.
    private static func tryLock(_ fd: Int32, shared: Bool = false) -> Bool {
        flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0
    }

    /// The holder's pid, for the waiters that give up.
    private static func claimed(_ fd: Int32, _ path: String, waited: Bool, inherited: Bool = false) -> FileLock {
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return FileLock(descriptor: fd, path: path, waited: waited, inherited: inherited)
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

    /// The note of a failed renewal beside the lock at `path`, if one was written since `since` (seconds
    /// since 1970, by mtime).
    public static func failure(at path: String, since: Int64) -> String? {
        var info = stat()
        guard stat(path + ".failed", &info) == 0, Int64(info.st_mtim.tv_sec) >= since,
              let bytes = try? PrivateFile.read(path + ".failed")
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Wakes a waiter when the lock file changes: its holder truncates and closes it on release, and the
/// kernel closes it for a holder that dies, so the waiter tries again at once instead of at intervals.
private final class ReleaseWatch {
    let descriptor: Int32

    init(_ path: String) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        if descriptor >= 0 { _ = inotify_add_watch(descriptor, path, UInt32(IN_CLOSE_WRITE | IN_MODIFY)) }
    }

    /// Until an event or the deadline; a file system without inotify events is looked at every 100 ms.
    func wait(until deadline: ContinuousClock.Instant) {
        let left = deadline - .now
        let (seconds, attoseconds) = left.components
        let milliseconds = max(0, min(Int64(seconds) * 1000 + attoseconds / 1_000_000_000_000_000, descriptor >= 0 ? 1000 : 100))
        guard descriptor >= 0 else { usleep(UInt32(milliseconds) * 1000); return }
        var events = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        if poll(&events, 1, Int32(milliseconds)) > 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(descriptor, &buffer, buffer.count)
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }
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
