import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// The Azure Arc agent's challenge: a first token request is answered 401 with
/// `WWW-Authenticate: Basic realm=<file>`, a file that only root and the himds group can read; its
/// contents go back as `Authorization: Basic <contents>`. As MSAL does, only a `.key` file of at most
/// 4,096 bytes in the agent's own folder is read: the endpoint must not make the helper send any file.
public enum AzureArcKeyFile {
    public static let folder = "/var/opt/azcmagent/tokens"
    /// Present where the agent is installed, which then serves identities even without the variables.
    public static let agent = "/opt/azcmagent/bin/himds"
    static let maximumSize = 4096

    static func read(challenge: String?) throws(AzureIdentityError) -> String {
        guard let challenge, challenge.lowercased().hasPrefix("basic realm=") else {
            throw .arcKeyFile(path: nil, problem: "the agent answered 401 without a Basic realm challenge")
        }
        let path = String(challenge.dropFirst("basic realm=".count)).trimmingCharacters(in: "\"")
        // The real path: a link or `..` must not lead out of the folder.
        guard let resolved = realpath(path, nil) else { throw .arcKeyFile(path: path, problem: "it cannot be opened") }
        let real = String(cString: resolved)
        free(resolved)
        guard real.hasSuffix(".key"), real.hasPrefix(folder + "/"), !real.dropFirst(folder.count + 1).contains("/") else {
            throw .arcKeyFile(path: path, problem: "it is not a .key file in \(folder)")
        }
        let bytes: [UInt8]?
        do {
            bytes = try FileDescriptorReader.contents(of: real, limit: maximumSize)
        } catch {
            throw .arcKeyFile(path: path, problem: error.code == EFBIG ? "it is larger than \(maximumSize) bytes" : "it cannot be read (\(error.cause))")
        }
        guard let bytes else { throw .arcKeyFile(path: path, problem: "it cannot be opened") }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: "\n\r ")
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
