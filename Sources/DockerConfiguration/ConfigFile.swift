import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Docker's `config.json` on disk: which file it really is, what it holds, and how it is replaced.
///
/// A symbolic link is followed, as Docker's own save follows it: dotfile managers (GNU Stow,
/// home-manager, chezmoi) link `~/.docker/config.json` into a repository, and replacing the link with a
/// plain file would quietly detach that managed copy. So the file the link resolves to is replaced (by a
/// temporary file beside it, on the same file system, then `rename`) and the link stays. A link to
/// nothing is refused, since which file is meant is unclear, and so is a file of another user, since
/// replacing it would hand it to us.
struct ConfigFile: Equatable, Sendable {
    /// The file that is read and replaced: the path given, or what its symbolic links resolve to.
    let file: String
    /// Its permission bits; nil when there is no file yet.
    let mode: mode_t?
    /// Its contents; nil when there is no file yet.
    let contents: [UInt8]?

    /// Far above any real configuration; a bigger file is refused, not read into memory.
    static let sizeLimit = 4 << 20

    static func read(_ path: String) throws(DockerConfigurationError) -> ConfigFile {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            guard errno == ENOENT else { throw .unreadable(path: path, reason: SystemError(code: errno).description) }
            return ConfigFile(file: path, mode: nil, contents: nil)
        }
        var file = path
        if info.st_mode & S_IFMT == S_IFLNK {
            guard let resolved = realpath(path, nil) else {
                let code = errno
                guard code == ENOENT else { throw .unreadable(path: path, reason: SystemError(code: code).description) }
                throw .danglingLink(path: path, destination: linkDestination(path))
            }
            file = String(cString: resolved)
            free(resolved)
        }
        // Non-blocking, so that a FIFO in its place is refused below instead of hanging the open.
        let descriptor = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(path: file, reason: SystemError(code: errno).description) }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else {
            throw .unreadable(path: file, reason: SystemError(code: errno).description)
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: file) }
        guard info.st_uid == geteuid() else { throw .notOwned(path: file, owner: info.st_uid, user: geteuid()) }
        let bytes: [UInt8]
        do {
            bytes = try FileDescriptorReader.readToEnd(descriptor, limit: sizeLimit)
        } catch {
            throw .unreadable(path: file, reason: error.description)
        }
        guard bytes.count <= sizeLimit else { throw .unreadable(path: file, reason: "it is larger than 4 MiB") }
        return ConfigFile(file: file, mode: info.st_mode & 0o7777, contents: bytes)
    }

    private static func linkDestination(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        return count < 0 ? "a missing file" : String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `bytes` to a temporary file beside `file`, flushes it to disk and renames it over `file`:
    /// a `docker pull` reading meanwhile sees the old or the new file, never half of one, and a crash at
    /// any point leaves one of the two whole.
    static func replace(_ file: String, with bytes: [UInt8], mode: mode_t) throws(DockerConfigurationError) {
        let temporary = file + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unwritable(path: file, reason: SystemError(code: errno).description) }
        var failure: Int32?
        var written = 0
        while failure == nil, written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { failure = count < 0 ? errno : EIO } else { written += count }
        }
        if failure == nil, fchmod(descriptor, mode) != 0 { failure = errno }
        if failure == nil, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if failure == nil, rename(temporary, file) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw .unwritable(path: file, reason: SystemError(code: failure).description)
        }
        // Makes the rename itself durable; best effort, as some file systems refuse fsync on folders.
        let folder = open(directory(of: file), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Creates `path` and missing parents with mode 0700, as Docker creates `~/.docker`.
    static func makeDirectory(_ path: String) throws(DockerConfigurationError) {
        if mkdir(path, 0o700) == 0 || errno == EEXIST { return }
        let code = errno
        guard code == ENOENT, let slash = path.lastIndex(of: "/"), slash > path.startIndex else {
            throw .unwritable(path: path, reason: SystemError(code: code).description)
        }
        try makeDirectory(String(path[..<slash]))
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw .unwritable(path: path, reason: SystemError(code: errno).description)
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension ConfigFile {
    /// Whether anything, even a dangling link, is at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}
