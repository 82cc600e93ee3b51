import ErrorExplanation
#if canImport(Glibc)
import Glibc
#endif

/// Reading a file descriptor to its end, the one loop every input of the helper goes through: stdin,
/// store files, token files, certificates, the configuration, a child's output.
public enum FileDescriptorReader {
    /// Reads `descriptor` to its end, but stops once more than `limit` bytes have arrived, so that a
    /// caller can refuse oversized input without buffering all of it. Throws the `errno` of a failed read.
    public static func readToEnd(_ descriptor: Int32, limit: Int) throws(SystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw SystemError(code: errno) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return bytes
    }

    /// The whole file at `path`, or nil when it does not exist; more than `limit` bytes is an error.
    public static func contents(of path: String, limit: Int) throws(SystemError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError(code: errno)
        }
        defer { close(descriptor) }
        let bytes = try readToEnd(descriptor, limit: limit)
        guard bytes.count <= limit else { throw SystemError(code: EFBIG) }
        return bytes
    }
}

/// A failed system call's `errno`, described as the C library describes it.
public struct SystemError: ExplainedError, Equatable {
    public let code: Int32

    public init(code: Int32) {
        self.code = code
    }

    public var cause: String { String(cString: strerror(code)) }
    public var fix: String? { nil }
}
