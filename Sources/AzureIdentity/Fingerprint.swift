import CLibMD

/// A salted HMAC-SHA-256 of a secret (a client secret, a certificate with its key), kept beside the tokens
/// derived with it: a changed secret no longer matches, so its tokens are not served, and the fingerprint
/// tells nothing of the secret. HMAC (RFC 2104) over libmd's SHA-256: libgcrypt's HMAC, though loaded
/// already under libsystemd, paged in 0.5 MiB of its start-up on every get of a cached token.
public enum Fingerprint {
    /// "v1:SALT:MAC", both in hex, with a new random salt.
    public static func make(_ material: [UInt8]) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "v1:" + hex(salt) + ":" + mac(material, salt: salt)
    }

    /// Whether `fingerprint` was made from `material`; no fingerprint matches only no material.
    public static func matches(_ fingerprint: String?, _ material: [UInt8]?) -> Bool {
        guard let fingerprint, let material else { return fingerprint == nil && material == nil }
        let parts = fingerprint.split(separator: ":")
        guard parts.count == 3, parts[0] == "v1", let salt = bytes(fromHex: parts[1]) else { return false }
        return mac(material, salt: salt) == parts[2]
    }

    /// HMAC-SHA-256 in hex, keyed by the salt.
    static func mac(_ material: [UInt8], salt: [UInt8]) -> String {
        // A key longer than SHA-256's 64-byte block is hashed first (a salt read from a damaged entry).
        let short = salt.count > 64 ? sha256(salt) : salt
        let key = short + [UInt8](repeating: 0, count: 64 - short.count)
        let inner = sha256(key.map { $0 ^ 0x36 } + material)
        return hex(sha256(key.map { $0 ^ 0x5C } + inner))
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var context = SHA2_CTX()
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        SHA256Init(&context)
        bytes.withUnsafeBufferPointer { SHA256Update(&context, $0.baseAddress, $0.count) }
        digest.withUnsafeMutableBufferPointer { SHA256Final($0.baseAddress, &context) }
        return digest
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private static func bytes(fromHex text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}
