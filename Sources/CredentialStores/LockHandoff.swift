#if canImport(Glibc)
import Glibc
#endif

/// The answer of a lock's holder, handed to the processes waiting for it over a unix socket beside the
/// lock, so that they need not read it back from the store once the lock is free: 31 `get`s doing that at
/// once queue at gnome-keyring for 20–50 ms. The socket is named after the lock file's inode (a path of
/// any login server fits `sun_path`), lives in the lock's private folder, and each end checks that the
/// other runs as the same user. Anything that goes wrong leaves the waiter to the store, as before.
///
/// Waiters connect, then sleep on the lock, not on their socket: the holder writes every answer, then one
/// release wakes them all. Woken by each write instead, each waiter took the CPU from the holder before
/// the next write, and 31 answers took 15 ms.
final class HandoffListener {
    private var descriptor: Int32
    private let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Listens at the socket of the lock open at `lockDescriptor`, replacing one a holder that died left.
    /// Only the holder of the lock calls this, so no two processes bind the path at once.
    static func listen(lockPath: String, lockDescriptor: Int32) -> HandoffListener? {
        guard let path = HandoffSocket.path(lockPath: lockPath, lockDescriptor: lockDescriptor),
              let fd = HandoffSocket.make() else { return nil }
        unlink(path)
        guard HandoffSocket.withAddress(path, { bind(fd, $0, $1) }) == 0, Glibc.listen(fd, SOMAXCONN) == 0 else {
            Glibc.close(fd)
            return nil
        }
        return HandoffListener(descriptor: fd, path: path)
    }

    /// Sends `message` to every waiter connected by now, then stops listening; they read it once the lock
    /// is released. Those that connect later are refused and read the store.
    func answer(_ message: [UInt8]) {
        while descriptor >= 0 {
            let waiter = accept(descriptor, nil, nil)
            if waiter < 0 {
                if errno == EINTR { continue }
                break
            }
            if HandoffSocket.peerIsMe(waiter) { HandoffSocket.send(message, to: waiter) }
            Glibc.close(waiter)
        }
        close()
    }

    /// Waiters connected by now find their stream ended without an answer, and read the store.
    func close() {
        guard descriptor >= 0 else { return }
        unlink(path)
        Glibc.close(descriptor)
        descriptor = -1
    }

    deinit { close() }
}

enum HandoffSocket {
    /// The most a holder sends: a token and its key.
    static let limit = 1 << 16

    static func path(lockPath: String, lockDescriptor: Int32) -> String? {
        var info = stat()
        guard fstat(lockDescriptor, &info) == 0 else { return nil }
        let path = PrivateFile.folder(of: lockPath) + "/handoff-\(info.st_ino).sock"
        return path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) ? path : nil
    }

    static func make() -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        return fd >= 0 ? fd : nil
    }

    static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Whether the process at the other end runs as this one's user. `struct ucred` needs _GNU_SOURCE,
    /// which Swift's Glibc does not define: its three fields are read as they are laid out.
    static func peerIsMe(_ fd: Int32) -> Bool {
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var size = socklen_t(MemoryLayout.size(ofValue: credentials))
        return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 && credentials.uid == geteuid()
    }

    /// A waiter's small message fits an empty socket buffer: the send never waits.
    static func send(_ message: [UInt8], to fd: Int32) {
        var rest = message[...]
        while !rest.isEmpty {
            let count = rest.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            rest = rest.dropFirst(count)
        }
    }

    /// A connection to the holder of the lock open at `lockDescriptor`; nil while none listens.
    static func connect(lockPath: String, lockDescriptor: Int32) -> Int32? {
        guard let path = path(lockPath: lockPath, lockDescriptor: lockDescriptor), let fd = make() else { return nil }
        guard withAddress(path, { Glibc.connect(fd, $0, $1) }) == 0, peerIsMe(fd) else {
            Glibc.close(fd)
            return nil
        }
        return fd
    }

    /// Whether the holder's socket is there: looked at, not connected to, so that the holder has no
    /// connection to answer for it.
    static func isListening(lockPath: String, lockDescriptor: Int32) -> Bool {
        var info = stat()
        guard let path = path(lockPath: lockPath, lockDescriptor: lockDescriptor) else { return false }
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
    }

    /// What the holder sent on `fd` before it released the lock, whole (up to the end of the stream);
    /// nil if it sent nothing, or is still sending. Closes `fd`.
    static func answer(on fd: Int32) -> [UInt8]? {
        defer { Glibc.close(fd) }
        var message: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while message.count <= limit {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                message += buffer[..<count]
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return count == 0 && !message.isEmpty ? message : nil
            }
        }
        return nil
    }
}
