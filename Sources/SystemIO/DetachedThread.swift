#if canImport(Glibc)
import Glibc
#endif

/// Blocking work (a libcurl transfer, a wait for a lock) on a thread of its own, awaited: the few threads
/// of Swift's executors are never held by it.
public enum DetachedThread {
    public static func run<T>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Outcome<T>, Never>) in
            Start { continuation.resume(returning: Outcome(value: work())) }.go()
        }.value
    }

    /// Starts `work` on a thread of its own and returns at once.
    public static func start(_ work: @escaping @Sendable () -> Void) {
        Start(work).go()
    }

    /// Hands the value across threads; it is made on the one and only read on the other.
    private struct Outcome<T>: @unchecked Sendable {
        let value: T
    }

    private final class Start {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }

        func go() {
            let context = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { context in
                Unmanaged<Start>.fromOpaque(context!).takeRetainedValue().work()
                return nil
            }, context)
            if started == 0 {
                pthread_detach(thread)
            } else {
                // No thread to be had: the work runs here, blocking, rather than not at all.
                Unmanaged<Start>.fromOpaque(context).takeRetainedValue().work()
            }
        }
    }
}
