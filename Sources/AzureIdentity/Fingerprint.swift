import CLibGcrypt

/// A salted HMAC-SHA-256 of a secret (a client secret, a certificate with its key), kept beside the tokens
/// derived with it: a changed secret no longer matches, so its tokens are not served, and the fingerprint
/// tells nothing of the secret. libgcrypt's HMAC: both binaries load it already, under libsystemd's sd-bus.
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

    private static func mac(_ material: [UInt8], salt: [UInt8]) -> String {
        // Required once before any other call; it only checks the version when given one.
        _ = gcry_check_version(nil)
        var digest = [UInt8](repeating: 0, count: 32)
        let failed = salt.withUnsafeBytes { key in
            material.withUnsafeBytes { data in
                // With GCRY_MD_FLAG_HMAC the first buffer is the key.
                var buffers = [
                    gcry_buffer_t(size: 0, off: 0, len: key.count, data: UnsafeMutableRawPointer(mutating: key.baseAddress)),
                    gcry_buffer_t(size: 0, off: 0, len: data.count, data: UnsafeMutableRawPointer(mutating: data.baseAddress)),
                ]
                return gcry_md_hash_buffers(Int32(GCRY_MD_SHA256.rawValue), UInt32(GCRY_MD_FLAG_HMAC.rawValue), &digest, &buffers, 2)
            }
        }
        return failed == 0 ? hex(digest) : ""
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
