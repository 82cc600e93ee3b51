import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// File operations for files that only their owner may read: every check and mode in one place.
public enum PrivateFile {
    static func homeDirectory(environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let entry = getpwuid(geteuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// Creates `path` as a folder private to its owner, or checks that it is one. Missing parents are
    /// ordinary folders (`~/.local/share`) and get the default mode.
    public static func makeDirectory(_ path: String) throws(FileStoreError) {
        try createFolder(path, mode: 0o700)
        try checkPrivate(path, directory: true)
    }

    private static func createFolder(_ path: String, mode: mode_t) throws(FileStoreError) {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        let code = errno
        guard code == ENOENT, let slash = path.lastIndex(of: "/"), slash > path.startIndex else {
            throw .system(operation: "create", path: path, errno: code)
        }
        try createFolder(String(path[..<slash]), mode: 0o755)
        guard mkdir(path, mode) == 0 || errno == EEXIST else {
            throw .system(operation: "create", path: path, errno: errno)
        }
    }

    static func checkPrivate(_ path: String, directory: Bool) throws(FileStoreError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .system(operation: "inspect", path: path, errno: errno) }
        try checkPrivate(info, path: path, directory: directory)
    }

    private static func checkPrivate(_ info: stat, path: String, directory: Bool) throws(FileStoreError) {
        let type = info.st_mode & S_IFMT
        guard type == (directory ? S_IFDIR : S_IFREG) else { throw .notRegular(path: path) }
        guard info.st_uid == geteuid() else { throw .notOwned(path: path) }
        guard info.st_mode & 0o077 == 0 else { throw .insecure(path: path, mode: UInt32(info.st_mode)) }
    }

    /// A private file to append to (created 0600 in a private folder), checked like every other.
    public static func openForAppending(_ path: String) throws(FileStoreError) -> Int32 {
        try makeDirectory(folder(of: path))
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw errno == ELOOP ? .notRegular(path: path) : .system(operation: "open", path: path, errno: errno) }
        var info = stat()
        do throws(FileStoreError) {
            guard fstat(fd, &info) == 0 else { throw .system(operation: "inspect", path: path, errno: errno) }
            try checkPrivate(info, path: path, directory: false)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    public static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The whole file, or nil when it does not exist. Its folder must be private too: a folder others
    /// can enter and list is refused on reads as it is on writes.
    static func read(_ path: String) throws(FileStoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw .notRegular(path: path) }
            throw .system(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system(operation: "inspect", path: path, errno: errno) }
        try checkPrivate(info, path: path, directory: false)
        try checkPrivate(folder(of: path), directory: true)
        do {
            return try FileDescriptorReader.readToEnd(fd, limit: Int.max - 1)
        } catch {
            throw .system(operation: "read", path: path, errno: error.code)
        }
    }

    /// Writes a sibling file, flushes it to disk, then renames it over `path`: readers see the old or the
    /// new contents, never a mix, and a crash at any point leaves one of the two whole. Data that can be
    /// rebuilt skips the flush (`durable: false`).
    static func replace(_ path: String, with bytes: [UInt8], durable: Bool = true) throws(FileStoreError) {
        // Per process: writers of derived data do not hold the store's lock.
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .system(operation: "create", path: temporary, errno: errno) }
        var failure: FileStoreError?
        if fchmod(fd, 0o600) != 0 { failure = .system(operation: "chmod", path: temporary, errno: errno) }
        var written = 0
        while failure == nil, written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { failure = .system(operation: "write", path: temporary, errno: errno); break }
            written += count
        }
        if failure == nil, durable, fsync(fd) != 0 { failure = .system(operation: "flush", path: temporary, errno: errno) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 {
            failure = .system(operation: "replace", path: path, errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        if durable { syncDirectory(of: path) }
        removeAbandonedTemporaries(of: path)
    }

    /// Deletes the temporary copies that writers killed mid-write left beside `path` (`path.PID.tmp` of a
    /// process that no longer exists): each is a whole copy of the secrets, and nothing else removes it.
    private static func removeAbandonedTemporaries(of path: String) {
        let directory = folder(of: path)
        let prefix = String(path[(path.lastIndex(of: "/").map(path.index(after:)) ?? path.startIndex)...]) + "."
        guard let folder = opendir(directory) else { return }
        defer { closedir(folder) }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix), name.hasSuffix(".tmp"),
                  let pid = pid_t(name.dropFirst(prefix.count).dropLast(4)), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            unlink(directory + "/" + name)
        }
    }

    /// Makes the rename itself durable; best effort, as some file systems refuse fsync on folders.
    private static func syncDirectory(of path: String) {
        let fd = open(folder(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
