#if canImport(Glibc)
import Glibc
#endif

public enum StandardInput {
    /// Reads stdin to its end, but stops one byte past `limit` so that a runaway writer cannot make the
    /// helper buffer without bound; the caller rejects anything longer than `limit`.
    public static func read(limit: Int = CredentialHelper.maximumInputBytes) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return bytes
    }
}
