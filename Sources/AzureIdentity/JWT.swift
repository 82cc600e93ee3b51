import FoundationEssentials

/// The claims of a JSON Web Token, read without verifying its signature: the helper only needs to know
/// when a token expires and whom it was issued to; the services that receive it verify it.
public struct JWT: Sendable {
    public let claims: [String: ClaimValue]

    /// Parses `header.payload.signature`; nil for anything that is not a JWT with a JSON object payload.
    public init?(_ token: String) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]),
              let claims = try? JSONDecoder().decode([String: ClaimValue].self, from: Data(payload))
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
public enum ClaimValue: Decodable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([ClaimValue])
    case object([String: ClaimValue])
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode([ClaimValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: ClaimValue].self)) }
    }
}

public enum Base64URL {
    public static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var base64 = String(text).replacing("-", with: "+").replacing("_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }

    public static func encode<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        Data(bytes).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_")
            .replacing("=", with: "")
    }
}
