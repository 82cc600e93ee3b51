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
    /// Where the processes waiting for this lock get its holder's answer, once `openToWaiters` is called.
    private var listener: HandoffListener?
    public let path: String
    /// Whether another process held the lock when this one asked for it.
    public let waited: Bool
    /// Whether it was handed over by the program that exec'd this one: held since before this one began.
    public let inherited: Bool
    /// What the program that handed it over passed on with it (`handOver(note:secret:)`); empty otherwise.
    public let note: String
    public let secret: [UInt8]

    private init(descriptor: Int32, path: String, waited: Bool, inherited: Bool = false, passed: Passed = .none) {
        self.descriptor = descriptor
        self.path = path
        self.waited = waited
        self.inherited = inherited
        self.note = passed.note
        self.secret = passed.secret
    }

    deinit { release() }

    public func release() {
        guard descriptor >= 0 else { return }
        listener?.close()
        listener = nil
        // The pid goes with the lock: a file naming a process that holds nothing would mislead.
        _ = ftruncate(descriptor, 0)
        Self.unlockAndClose(descriptor)
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
        if let held = handedOver(for: path) { return claimed(held, path) }
        let fd = try open(path)
        return claimed(fd, path, waited: try lock(fd, path, until: deadline))
    }

    /// The lock at `path` if no other process holds it; nil at once when one does.
    public static func acquireIfFree(_ path: String) throws -> FileLock? {
        if let held = handedOver(for: path) { return claimed(held, path) }
        let fd = try open(path)
        guard tryLock(fd) else {
            close(fd)
            return nil
        }
        return claimed(fd, path, waited: false)
    }

    /// Waits, without taking it, while another process holds the lock at `path`: returns the holder's
    /// answer (`answerWaiters`) once it lets go, nil if it gave none; throws as `acquire` does when it is
    /// still held at `deadline`.
    public static func waitWhileHeld(_ path: String, until deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        let fd = try open(path)
        if tryLock(fd, shared: true) {
            unlockAndClose(fd)
            return nil
        }
        // Connected while it holds the lock, the waiter is among those it answers before letting go.
        let holder = HandoffSocket.connect(lockPath: path, lockDescriptor: fd)
        guard LockWait.lock(fd, shared: true, until: deadline) else {
            if let holder { close(holder) }
            throw timedOut(fd, path)
        }
        unlockAndClose(fd)
        return holder.flatMap(HandoffSocket.answer(on:))
    }

    /// `waitWhileHeld` on a thread of its own: an async caller never holds one of the executors' few threads.
    public static func waitForRelease(_ path: String, until deadline: ContinuousClock.Instant) async throws -> [UInt8]? {
        try await DetachedThread.run { Result { try waitWhileHeld(path, until: deadline) } }.get()
    }

    /// Waits while another process holds the lock at `path` but does not listen for waiters yet (a renewal
    /// still reading the store, which this process would only slow down), at most until `deadline`.
    public static func waitWhileHolderReads(_ path: String, until deadline: ContinuousClock.Instant) {
        guard let fd = try? open(path) else { return }
        defer { unlockAndClose(fd) }
        var watch: ReleaseWatch?
        while !tryLock(fd, shared: true), ContinuousClock.now < deadline,
              !HandoffSocket.isListening(lockPath: path, lockDescriptor: fd) {
            if let watch { watch.wait(until: deadline) } else { watch = ReleaseWatch(path) }
        }
    }

    /// Lets the processes that wait for this lock connect to its holder (best effort: where no socket can
    /// be made, they read the store once the lock is free).
    public func openToWaiters() {
        guard descriptor >= 0, listener == nil else { return }
        listener = HandoffListener.listen(lockPath: path, lockDescriptor: descriptor)
        if listener != nil { Self.writePid(descriptor) }
    }

    /// Sends `message` to the processes waiting for this lock, and stops listening for more.
    public func answerWaiters(_ message: [UInt8]) {
        listener?.answer(message)
        listener = nil
    }

    /// Locks `fd` once no other process holds the lock, at most until `deadline` (then `fd` is closed and
    /// the holder named); returns whether it had to wait.
    private static func lock(_ fd: Int32, _ path: String, until deadline: ContinuousClock.Instant) throws -> Bool {
        if tryLock(fd) { return false }
        guard LockWait.lock(fd, shared: false, until: deadline) else { throw timedOut(fd, path) }
        return true
    }

    // MARK: - Held across an exec

    /// Names the descriptor of a lock held across an exec (the binary without a network hands its renewal
    /// to the engine), so that no other process finds the lock free in between.
    public static let handOverVariable = "DOCKER_CREDENTIAL_ACR_HELD_LOCK"
    /// The note that goes with it.
    public static let handOverNoteVariable = "DOCKER_CREDENTIAL_ACR_HELD_LOCK_NOTE"

    /// What goes with a lock handed over: a note in the environment, a secret through a pipe.
    struct Passed {
        var note = ""
        var secret: [UInt8] = []
        static let none = Passed()
    }
    private static let handedOver = Mutex<(lock: Int32, passed: Passed)>((-1, .none))

    /// Keeps the lock held by the program this process execs next, which takes it with `takeHandedOver`,
    /// with a pipe holding `secret`: "LOCK PIPE", descriptors (-1: none). Waiters it listened for are let go.
    public func handOver(note: String = "", secret: [UInt8] = []) {
        guard descriptor >= 0, fcntl(descriptor, F_SETFD, 0) == 0 else { return }
        listener?.close()
        listener = nil
        let pipe = secret.isEmpty ? -1 : Self.pipe(holding: secret)
        setenv(Self.handOverVariable, "\(descriptor) \(pipe)", 1)
        if note.isEmpty { unsetenv(Self.handOverNoteVariable) } else { setenv(Self.handOverNoteVariable, note, 1) }
        descriptor = -1
    }

    /// The read end of a pipe holding `bytes`, open across the exec; -1 when that fails. A token fits the
    /// pipe's buffer: written whole, the write end closed, before anyone reads.
    private static func pipe(holding bytes: [UInt8]) -> Int32 {
        var ends: [Int32] = [0, 0]
        guard bytes.count < 1 << 16, Glibc.pipe(&ends) == 0 else { return -1 }
        let written = bytes.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
        close(ends[1])
        guard written == bytes.count else {
            close(ends[0])
            return -1
        }
        return ends[0]
    }

    /// First thing in the engine: the descriptors handed over, kept from its child processes and from the
    /// variables' next reader; `acquire` of the same file then returns the lock.
    public static func takeHandedOver() {
        let note = getenv(handOverNoteVariable).map { String(cString: $0) } ?? ""
        unsetenv(handOverNoteVariable)
        guard let text = getenv(handOverVariable).map({ String(cString: $0) }) else { return }
        unsetenv(handOverVariable)
        let descriptors = text.split(separator: " ").map { Int32($0).flatMap { $0 > 2 && fcntl($0, F_SETFD, FD_CLOEXEC) == 0 ? $0 : nil } ?? -1 }
        guard let fd = descriptors.first, fd >= 0 else { return }
        let pipe = descriptors.count > 1 ? descriptors[1] : -1
        let secret = pipe >= 0 ? (try? FileDescriptorReader.readToEnd(pipe, limit: 1 << 16)) ?? [] : []
        if pipe >= 0 { close(pipe) }
        handedOver.withLock { $0 = (fd, Passed(note: note, secret: secret)) }
    }

    /// The handed-over lock, and what came with it, when it is the file at `path`.
    private static func handedOver(for path: String) -> (lock: Int32, passed: Passed)? {
        handedOver.withLock { held in
            var info = stat()
            var named = stat()
            guard held.lock >= 0, fstat(held.lock, &info) == 0, stat(path, &named) == 0, info.st_dev == named.st_dev,
                  info.st_ino == named.st_ino
            else { return nil }
            defer { held = (-1, .none) }
            return (held.lock, held.passed)
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

    /// The kernel sends the close event of a file before it drops the file's locks: a waiter woken by it
    /// could find the lock still held and sleep through the release. Unlocked first, the close comes after.
    private static func unlockAndClose(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }

    /// The holder's pid, for the waiters that give up.
    private static func claimed(_ fd: Int32, _ path: String, waited: Bool) -> FileLock {
        writePid(fd)
        return FileLock(descriptor: fd, path: path, waited: waited)
    }

    private static func claimed(_ held: (lock: Int32, passed: Passed), _ path: String) -> FileLock {
        writePid(held.lock)
        return FileLock(descriptor: held.lock, path: path, waited: false, inherited: true, passed: held.passed)
    }

    private static func writePid(_ fd: Int32) {
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func timedOut(_ fd: Int32, _ path: String) -> FileLockError {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        unlockAndClose(fd)
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

/// Wakes a reader waiting for a holder when the lock file changes: the holder rewrites it once it listens,
/// truncates, unlocks and closes it on release, and the kernel closes it for a holder that dies.
private final class ReleaseWatch {
    let descriptor: Int32

    init(_ path: String) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        if descriptor >= 0 { _ = inotify_add_watch(descriptor, path, UInt32(IN_CLOSE_WRITE | IN_MODIFY)) }
    }

    /// Until an event or the deadline, at most 100 ms: a holder that dies is unlocked after its close event.
    func wait(until deadline: ContinuousClock.Instant) {
        // Without inotify, poll's timeout is the wait (a negative descriptor is skipped, not an error).
        if pollReadable(descriptor, until: deadline, atMost: 100), descriptor >= 0 {
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
