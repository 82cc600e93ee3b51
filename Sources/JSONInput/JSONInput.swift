import FoundationEssentials

/// JSON that comes from outside the helper (Docker's input, Azure's answers, files, other programs'
/// output), decoded by JSONDecoder behind one guard: JSONDecoder refuses nesting deeper than 512 levels,
/// but the error it builds for an input that ends exactly 513 levels deep (`[` 513 times) traps
/// (swift-foundation, found by TokenClaimsFuzz), which would end the helper with SIGILL and no message.
public enum JSONInput {
    /// JSONDecoder's own limit.
    public static let maximumDepth = 512

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        guard isWithinDepth(bytes) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: [], debugDescription: "JSON nested more than \(maximumDepth) levels deep"))
        }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Whether no array or object in `bytes` is nested more than `maximumDepth` deep, brackets in strings
    /// aside. Text that is not JSON passes, for the decoder to refuse.
    public static func isWithinDepth(_ bytes: some Collection<UInt8>) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false }
                else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maximumDepth { return false }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return true
    }
}
