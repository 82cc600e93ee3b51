import CredentialStores
import FoundationEssentials
import Synchronization
import SystemIO
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
        // Waits block: each on a thread of its own, not on the few of the tests' shared pool.
        let waiter = Task {
            await DetachedThread.run {
                Result { (try FileLock.waitWhileHeld(path, until: .now + .seconds(10)), released.withLock { $0 }) }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        released.withLock { $0 = true }
        holder.release()
        let (answer, afterRelease) = try await waiter.value.get()
        #expect(answer == nil && afterRelease)
    }

    @Test func aWaiterGivesUpAtItsDeadlineNamingTheHolder() throws {
        let path = lockPath()
        let holder = try #require(try FileLock.acquireIfFree(path))
        defer { holder.release() }
        #expect {
            _ = try FileLock.waitWhileHeld(path, until: .now + .milliseconds(200))
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

    /// Waiters get the answer the holder gave them when it lets go of the lock.
    @Test func theHoldersAnswerReachesItsWaitersAtTheRelease() async throws {
        let path = lockPath()
        let holder = try #require(try FileLock.acquireIfFree(path))
        holder.openToWaiters()
        let waiters = (0..<3).map { _ in
            Task { await DetachedThread.run { Result { try FileLock.waitWhileHeld(path, until: .now + .seconds(10)) } } }
        }
        try await Task.sleep(for: .milliseconds(200))
        holder.answerWaiters(Array("the token".utf8))
        holder.release()
        for waiter in waiters { #expect(try await waiter.value.get() == Array("the token".utf8)) }
    }

    /// A holder that gives no answer (its renewal failed) leaves its waiters to the release.
    @Test func withoutAnAnswerWaitersReturnAtTheRelease() async throws {
        let path = lockPath()
        let holder = try #require(try FileLock.acquireIfFree(path))
        holder.openToWaiters()
        let waiter = Task { await DetachedThread.run { Result { try FileLock.waitWhileHeld(path, until: .now + .seconds(10)) } } }
        try await Task.sleep(for: .milliseconds(200))
        holder.release()
        #expect(try await waiter.value.get() == nil)
    }

    /// Those that come while the holder reads the store wait until it listens for them, or releases.
    @Test func readersWaitUntilTheHolderListens() async throws {
        let path = lockPath()
        let holder = try #require(try FileLock.acquireIfFree(path))
        let listening = Mutex(false)
        let reader = Task {
            await DetachedThread.run {
                FileLock.waitWhileHolderReads(path, until: .now + .seconds(10))
                return listening.withLock { $0 }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        listening.withLock { $0 = true }
        holder.openToWaiters()
        #expect(await reader.value)
        #expect(try FileLock.acquireIfFree(path) == nil, "still held")
        holder.release()
    }

    /// What goes with a lock across an exec: a note in the environment, a secret through a pipe.
    @Test func aHandedOverLockCarriesItsNoteAndSecret() throws {
        let path = lockPath()
        let lock = try #require(try FileLock.acquireIfFree(path))
        lock.handOver(note: "credential\tregistry", secret: Array("a token".utf8))
        #expect(getenv(FileLock.handOverNoteVariable).map { String(cString: $0) } == "credential\tregistry")
        #expect(String(cString: getenv(FileLock.handOverVariable)).split(separator: " ").count == 2, "lock, pipe")
        FileLock.takeHandedOver()
        #expect(getenv(FileLock.handOverNoteVariable) == nil && getenv(FileLock.handOverVariable) == nil)
        let taken = try #require(try FileLock.acquireIfFree(path))
        #expect(taken.inherited && taken.note == "credential\tregistry" && taken.secret == Array("a token".utf8))
        taken.release()
    }

    /// A token handed to waiters is read back only as the token of its own key.
    @Test func aHandedTokenIsReadOnlyUnderItsKey() {
        let key = TokenKey(kind: .acrRefreshToken, scope: "r.azurecr.io", identity: "sp:t:c")
        let token = CachedToken(token: "eyJ.a.b", expiresOn: 1_900_000_000, proof: "p")
        #expect(CachedToken(handoff: token.handoff(for: key), for: key) == token)
        #expect(CachedToken(handoff: token.handoff(for: key), for: TokenKey(kind: .acrRefreshToken, scope: "r.azurecr.io", identity: "other")) == nil)
        #expect(CachedToken(token: "a\nb", expiresOn: 1).handoff(for: key).isEmpty, "no field may break the lines")
    }
}
