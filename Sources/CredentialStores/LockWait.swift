import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// A blocking flock, given a deadline flock itself does not take: the lock is waited for on a thread of
/// its own, through a descriptor of its own for the same open file (so the lock is the caller's once
/// taken), while the caller waits for that thread no longer than the deadline. A lock taken after the
/// caller gave up is given back at once.
///
/// The kernel wakes every waiter the moment the lock is released. A watch on the file did that too, but
/// closing an inotify instance waits for a grace period of the kernel's (1–16 ms here), and 31 waiters
/// closing theirs as they answered doubled the time they took after a renewal.
enum LockWait {
    private enum State { case waiting, locked, failed, abandoned }

    private final class Outcome: Sendable {
        let state = Mutex(State.waiting)
    }

    /// Whether `fd` holds the lock (shared or exclusive) before `deadline`.
    static func lock(_ fd: Int32, shared: Bool, until deadline: ContinuousClock.Instant) -> Bool {
        let own = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        var ends: [Int32] = [0, 0]
        guard own >= 0, socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            if own >= 0 { close(own) }
            return false
        }
        let (mine, theirs) = (ends[0], ends[1])
        let operation = shared ? LOCK_SH : LOCK_EX
        let outcome = Outcome()
        DetachedThread.start {
            var result: Int32
            repeat { result = flock(own, operation) } while result != 0 && errno == EINTR
            let kept = outcome.state.withLock { state in
                guard state != .abandoned else { return false }
                state = result == 0 ? .locked : .failed
                return true
            }
            if result == 0, !kept { _ = flock(own, LOCK_UN) }
            close(own)
            // The caller may be gone: a socket, so that the late word raises no SIGPIPE.
            var done: UInt8 = 1
            _ = send(theirs, &done, 1, Int32(MSG_NOSIGNAL))
            close(theirs)
        }
        defer { close(mine) }
        while outcome.state.withLock({ $0 == .waiting }), ContinuousClock.now < deadline {
            _ = pollReadable(mine, until: deadline, atMost: 1000)
        }
        return outcome.state.withLock { state in
            if state == .waiting { state = .abandoned }
            return state == .locked
        }
    }
}

/// Waits until `fd` has something to read, `deadline` passes, or `atMost` milliseconds, whichever is first;
/// whether it has.
func pollReadable(_ fd: Int32, until deadline: ContinuousClock.Instant, atMost: Int64) -> Bool {
    let (seconds, attoseconds) = (deadline - .now).components
    // Rounded up: a wait of less than a millisecond is not a busy loop of zero-time polls.
    let milliseconds = max(0, min(Int64(seconds) * 1000 + attoseconds / 1_000_000_000_000_000 + 1, atMost))
    var events = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&events, 1, Int32(milliseconds)) > 0
}
