import AzureIdentity
import Foundation
import FuzzSupport

/// The JWT and claims parser, which reads tokens from Azure AD, ACR, the store and Docker's input, and
/// the sign-in record kept in the store. Properties: nothing crashes on any text; a JSON object as the
/// payload is always read as claims; base64url decodes what it encodes.
func fuzzOne(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let jwt = JWT(text) {
        _ = (jwt.expiresOn, jwt.issuedAt, jwt.string("tid"), jwt.number("exp"))
    }
    _ = SignIn(encoded: text)
    require(Base64URL.decode(Base64URL.encode(bytes)) == bytes, "base64url does not round-trip")
    let token = "eyJhbGciOiJSUzI1NiJ9." + Base64URL.encode(bytes) + ".c2lnbmF0dXJl"
    let isObject = (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) is [String: Any]
    if isObject, String(validating: bytes, as: UTF8.self) != nil {
        require(JWT(token) != nil, "a JSON object payload was not read as claims")
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
