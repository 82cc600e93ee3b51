import CGLib

/// A salted HMAC-SHA-256 of a secret (a client secret, a certificate with its key), kept beside the tokens
/// derived with it: a changed secret no longer matches, so its tokens are not served, and the fingerprint
/// tells nothing of the secret. GLib's HMAC, which both binaries link already (under libsecret).
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
        let text = salt.withUnsafeBufferPointer { key in
            material.withUnsafeBufferPointer { data in
                g_compute_hmac_for_data(G_CHECKSUM_SHA256, key.baseAddress, gsize(key.count), data.baseAddress, gsize(data.count))
            }
        }
        guard let text else { return "" }
        defer { g_free(text) }
        return String(cString: text)
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
