import FoundationEssentials

/// The claims of a JSON Web Token, read without verifying its signature: the helper only needs to know
/// when a token expires and whom it was issued to; the services that receive it verify it.
public struct JWT: Sendable {
    public let claims: [String: ClaimValue]

    /// Parses `header.payload.signature`; nil for anything that is not a JWT with a JSON object payload.
    public init?(_ token: String) {
        // Split as bytes: splitting a 2 KB token by Characters cost more than decoding it.
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(bytes: parts[1]),
              case .object(let claims)? = ClaimValue(json: payload)
        else { return nil }
        self.claims = claims
    }

    public func string(_ name: String) -> String? {
        if case .string(let value)? = claims[name] { return value }
        return nil
    }

    public func number(_ name: String) -> Int64? {
        switch claims[name] {
        case .number(let value)?: Int64(exactly: value.rounded(.down))
        case .string(let value)?: Int64(value)
        default: nil
        }
    }

    /// `exp`, seconds since 1970.
    public var expiresOn: Int64? { number("exp") }
    public var issuedAt: Int64? { number("iat") }
}

/// A claim's value; nested objects and arrays are kept only as far as the helper reads them.
public enum ClaimValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([ClaimValue])
    case object([String: ClaimValue])
    case null

    /// One JSON value (RFC 8259), whitespace around it allowed; nil for anything else. Every get of a cached
    /// ACR token reads one: JSONDecoder's generic machinery cost a third of such a get's instructions and
    /// 1 MiB of its memory. The fuzz target TokenClaimsFuzz holds it to JSONDecoder's answers.
    public init?(json bytes: [UInt8]) {
        var reader = JSONReader(bytes: bytes)
        guard let value = reader.value(depth: 0) else { return nil }
        reader.skipWhitespace()
        guard reader.offset == bytes.count else { return nil }
        self = value
    }
}

/// A recursive-descent reader over UTF-8 bytes, no deeper than JSONDecoder goes (512).
private struct JSONReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    mutating func value(depth: Int) -> ClaimValue? {
        skipWhitespace()
        guard offset < bytes.count, depth < 512 else { return nil }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return object(depth: depth)
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string().map(ClaimValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    private mutating func object(depth: Int) -> ClaimValue? {
        offset += 1
        var members: [String: ClaimValue] = [:]
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            // `{"a":1,}` too, as JSONDecoder reads it.
            skipWhitespace()
            if !members.isEmpty, take(UInt8(ascii: "}")) { return .object(members) }
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")), let member = value(depth: depth + 1) else { return nil }
            // The first of duplicate names counts, as with JSONDecoder.
            if members[key] == nil { members[key] = member }
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) ? .object(members) : nil
    }

    private mutating func array(depth: Int) -> ClaimValue? {
        offset += 1
        var elements: [ClaimValue] = []
        skipWhitespace()
        if take(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            // `[1,]` too, as JSONDecoder reads it.
            skipWhitespace()
            if !elements.isEmpty, take(UInt8(ascii: "]")) { return .array(elements) }
            guard let element = value(depth: depth + 1) else { return nil }
            elements.append(element)
            skipWhitespace()
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? .array(elements) : nil
    }

    /// A string at `offset` (its opening quote): escapes resolved, UTF-8 checked.
    private mutating func string() -> String? {
        offset += 1
        var text: [UInt8] = []
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""): return String(validating: text, as: UTF8.self)
            case 0..<0x20: return nil
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { return nil }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    text += Array(String(Character(scalar)).utf8)
                default: return nil
                }
            default: text.append(byte)
            }
        }
        return nil
    }

    /// `XXXX` after `\u`, or a surrogate pair `XXXX\uXXXX`.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        guard (0xD800..<0xDC00).contains(high) else { return Unicode.Scalar(high) }
        guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
        return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    private mutating func hex4() -> UInt32? {
        guard offset + 4 <= bytes.count,
              let value = UInt32(String(decoding: bytes[offset..<offset + 4], as: UTF8.self), radix: 16),
              bytes[offset..<offset + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
        else { return nil }
        offset += 4
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite.
    private mutating func number() -> ClaimValue? {
        let start = offset
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
        } else if digits() == 0 { return nil }
        if take(UInt8(ascii: ".")), digits() == 0 { return nil }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            if digits() == 0 { return nil }
        }
        guard let value = Double(String(decoding: bytes[start..<offset], as: UTF8.self)), value.isFinite else { return nil }
        return .number(value)
    }

    private mutating func digits() -> Int {
        let start = offset
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
        return offset - start
    }

    private mutating func literal(_ word: StaticString, _ value: ClaimValue) -> ClaimValue? {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count,
              bytes[offset..<offset + count].elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { return nil }
        offset += count
        return value
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard offset < bytes.count, bytes[offset] == byte else { return false }
        offset += 1
        return true
    }
}

public enum Base64URL {
    public static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        decode(bytes: text.utf8)
    }

    public static func decode<Bytes: Collection<UInt8>>(bytes: Bytes) -> [UInt8]? {
        var base64 = bytes.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "+") : $0 == UInt8(ascii: "_") ? UInt8(ascii: "/") : $0 }
        base64 += repeatElement(UInt8(ascii: "="), count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: Data(base64)).map(Array.init)
    }

    public static func encode<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        Data(bytes).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }
}
