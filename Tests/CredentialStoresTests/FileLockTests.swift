import CredentialStores
import FoundationEssentials
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The single flight's lock, as processes meet it; two opens of one file conflict within a process too.
@Suite struct FileLockTests {
    private func lockPath() -> String {
        FileManager.default.temporaryDirectory.path + "/lock-tests-\(UUID().uuidString)/exchange.lock"
    }

    @Test func aHeldLockIsNotFreeAndIsFreeOnceReleased() throws {
        let path = lockPath()
        let holder = try #require(try FileLock.acquireIfFree(path))
        #expect(try FileLock.acquireIfFree(path) == nil)
        holder.release()
        #expect(try FileLock.acquireIfFree(path) != nil)
    }

    /// The waiter returns once the holder releases, and not before (how soon is `make bench`'s question).
    @Test func aWaiterReturnsOnceTheHolderReleases() async throws {
        let path = lockPath()
        let holder = try #require(try FileLock.acquireIfFree(path))
        let released = Mutex(false)
        let waiter = Task.detached {
            try FileLock.waitWhileHeld(path, until: .now + .seconds(10))
            return released.withLock { $0 }
        }
        try await Task.sleep(for: .milliseconds(100))
        released.withLock { $0 = true }
        holder.release()
        #expect(try await waiter.value)
    }

    @Test func aWaiterGivesUpAtItsDeadlineNamingTheHolder() throws {
        let path = lockPath()
        let holder = try #require(try FileLock.acquireIfFree(path))
        defer { holder.release() }
        #expect {
            try FileLock.waitWhileHeld(path, until: .now + .milliseconds(200))
        } throws: { error in
            guard case .timedOut(let named, let pid) = error as? FileLockError else { return false }
            // The holder is this process: the test runner, docker-credential-acrPackageTests.
            return named == path && pid == getpid()
        }
    }

    /// Handed over across an exec: the next program takes the held lock instead of waiting for itself.
    @Test func aHandedOverLockIsTakenWithoutWaiting() throws {
        let path = lockPath()
        let lock = try #require(try FileLock.acquireIfFree(path))
        lock.handOver()
        #expect(getenv(FileLock.handOverVariable) != nil)
        FileLock.takeHandedOver()
        #expect(getenv(FileLock.handOverVariable) == nil, "not passed on to child processes")
        let taken = try FileLock.acquireBlocking(path, until: .now + .milliseconds(100))
        #expect(!taken.waited)
        #expect(try FileLock.acquireIfFree(path) == nil, "still held")
        taken.release()
        #expect(try FileLock.acquireIfFree(path) != nil)
    }
}
