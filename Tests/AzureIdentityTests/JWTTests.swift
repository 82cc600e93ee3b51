import AzureIdentity
import Testing

/// The claims reader against JSON's grammar (RFC 8259); TokenClaimsFuzz compares it with JSONDecoder.
struct JWTTests {
    func read(_ text: String) -> ClaimValue? { ClaimValue(json: Array(text.utf8)) }

    @Test func readsEveryKindOfValue() {
        #expect(read(#" {"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","n":-12.5e2,"t":true,"f":false,"z":null,"a":[1,[]],"o":{}} "#) == .object([
            "s": .string("a\"b\\c/d\né😀"), "n": .number(-1250), "t": .bool(true), "f": .bool(false), "z": .null,
            "a": .array([.number(1), .array([])]), "o": .object([:]),
        ]))
        #expect(read("0e7") == .number(0))
        #expect(read("-0") == .number(-0.0))
        #expect(read("[1, ]") == .array([.number(1)]))  // as JSONDecoder reads them
        #expect(read(#"{"a":1, }"#) == .object(["a": .number(1)]))
    }

    @Test func theFirstOfTwoEqualNamesCounts() {
        #expect(read(#"{"tid":"first","tid":"second"}"#) == .object(["tid": .string("first")]))
    }

    @Test(arguments: [
        "", " ", "{", "[,]", "[1,,]", "{,}", #"{"a":1,,}"#, "{a:1}", "{'a':1}", #"{"a" 1}"#, "[1 2]", "01", "1.", ".5", "+1", "1e", "1e+",
        "-", "NaN", "Infinity", "1e400", "tru", "nul", "true false", "\"tab\tin\"", "\"\u{1}\"", #""\x""#, #""\u12""#,
        #""\u+123""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "\"unterminated", "[1]]", "{}{}",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(read(text) == nil)
    }

    @Test func refusesInvalidUTF8InAString() {
        #expect(ClaimValue(json: [0x22, 0xC3, 0x28, 0x22]) == nil)
    }

    @Test func nestingStopsWhereJSONDecoderStops() {
        #expect(read(String(repeating: "[", count: 511) + String(repeating: "]", count: 511)) != nil)
        #expect(read(String(repeating: "[", count: 100_000)) == nil)
    }

    @Test func aTokenIsReadFromItsPayload() throws {
        let payload = Base64URL.encode(Array(#"{"exp":1700000000,"iat":1699990000,"tid":"t-1"}"#.utf8))
        let jwt = try #require(JWT("eyJhbGciOiJSUzI1NiJ9.\(payload).c2ln"))
        #expect(jwt.expiresOn == 1_700_000_000)
        #expect(jwt.issuedAt == 1_699_990_000)
        #expect(jwt.string("tid") == "t-1")
        #expect(JWT("eyJhbGciOiJSUzI1NiJ9.\(Base64URL.encode(Array("[1]".utf8))).c2ln") == nil)
        #expect(JWT("a.b") == nil)
    }
}
