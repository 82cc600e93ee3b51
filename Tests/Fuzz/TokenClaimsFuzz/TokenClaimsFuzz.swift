import AzureIdentity
import Foundation
import FuzzSupport
import JSONInput

/// The JWT and claims parser, which reads tokens from Azure AD, ACR, the store and Docker's input, and
/// the sign-in record kept in the store. Properties: nothing crashes on any text; the claims reader reads
/// values as JSONDecoder does, and accepts all JSON; a JSON object as the payload is always read
/// as claims; base64url decodes what it encodes.
func fuzzOne(_ bytes: [UInt8]) {
    // What both the reader and JSONDecoder accept, they read alike; what JSONSerialization (which checks
    // every value) accepts, the reader accepts. Both stop at a NUL byte (`8\0garbage`). JSONDecoder is both
    // laxer (it checks nothing in a value it skips, the second of two equal names) and stricter (it refuses
    // `0e7`, though not `0e+7`); AzureIdentityTests hold the reader to the grammar's refusals. Foundation
    // traps on some input nested deeper than its limit (see JSONInput), which both refuse: not compared.
    let comparable = JSONInput.isWithinDepth(bytes)
    if !comparable {
        require(ClaimValue(json: bytes) == nil, "the claims reader read JSON nested deeper than JSONDecoder's limit")
    } else if let claims = ClaimValue(json: bytes) {
        let reference = try? JSONInput.decode(ClaimValue.self, from: bytes)
        require(reference == nil || reference == claims, "the claims reader and JSONDecoder disagree")
    } else if !bytes.contains(0), String(validating: bytes, as: UTF8.self) != nil {
        require((try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) == nil,
                "the claims reader refused JSON that JSONSerialization reads")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let jwt = JWT(text) {
        _ = (jwt.expiresOn, jwt.issuedAt, jwt.string("tid"), jwt.number("exp"))
    }
    _ = SignIn(encoded: text)
    require(Base64URL.decode(Base64URL.encode(bytes)) == bytes, "base64url does not round-trip")
    let token = "eyJhbGciOiJSUzI1NiJ9." + Base64URL.encode(bytes) + ".c2lnbmF0dXJl"
    // JSONSerialization reads `{\0}` as an object; a NUL byte is no JSON, and the reader refuses it.
    let isObject = comparable && !bytes.contains(0)
        && (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) is [String: Any]
    if isObject, String(validating: bytes, as: UTF8.self) != nil {
        require(JWT(token) != nil, "a JSON object payload was not read as claims")
    }
}

/// The reference reading: JSONDecoder, trying each kind of value in turn.
extension ClaimValue: Decodable {
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

@main
enum Fuzz {
    static func main() {
        FuzzInput.main { data, size in
            fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        }
    }
}
