import Testing
@testable import AzureIdentity

/// The HMAC over libmd's SHA-256 against RFC 4231's test vectors (keys shorter and longer than a block),
/// so that fingerprints made by earlier versions (GLib's HMAC) still match.
struct FingerprintTests {
    @Test(arguments: [
        ("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 131),
         "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ])
    func matchesRFC4231(key: String, data: String, mac: String) {
        #expect(Fingerprint.mac(bytes(data), salt: bytes(key)) == mac)
    }

    @Test func aFingerprintMatchesOnlyItsMaterial() {
        let fingerprint = Fingerprint.make(Array("client-secret".utf8))
        #expect(Fingerprint.matches(fingerprint, Array("client-secret".utf8)))
        #expect(!Fingerprint.matches(fingerprint, Array("another-secret".utf8)))
        #expect(!Fingerprint.matches("v1:" + String(repeating: "ab", count: 100) + ":00", Array("client-secret".utf8)))
    }

    private func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map {
            UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)!
        }
    }
}
