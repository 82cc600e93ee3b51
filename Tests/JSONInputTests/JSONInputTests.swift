import FoundationEssentials
import JSONInput
import Testing

@Suite struct JSONInputTests {
    @Test func decodesWhatJSONDecoderDecodes() throws {
        #expect(try JSONInput.decode([String: [Int]].self, from: Array(#"{"a":[1,2],"b":[]}"#.utf8)) == ["a": [1, 2], "b": []])
        #expect(throws: DecodingError.self) { try JSONInput.decode([Int].self, from: Array("[1,".utf8)) }
    }

    /// `[` 513 times made JSONDecoder trap; 512 levels are still JSON it reads.
    @Test(arguments: [511, 512, 513, 514, 2000])
    func refusesNestingBeyondJSONDecodersLimitWithAnError(depth: Int) throws {
        let unterminated = Array(String(repeating: "[", count: depth).utf8)
        #expect(throws: DecodingError.self) { try JSONInput.decode([JSONAny].self, from: unterminated) }
        let whole = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
        if depth <= JSONInput.maximumDepth {
            #expect(try JSONInput.decode(JSONAny.self, from: whole) == JSONAny())
        } else {
            #expect(throws: DecodingError.self) { try JSONInput.decode(JSONAny.self, from: whole) }
        }
    }

    @Test func bracketsInStringsDoNotCount() {
        let deepInAString = Array(("[\"" + String(repeating: "[", count: 600) + "\\\"\"]").utf8)
        #expect(JSONInput.isWithinDepth(deepInAString))
        #expect(throws: Never.self) { try JSONInput.decode([String].self, from: deepInAString) }
    }
}

/// Any nest of arrays, read to its end.
private struct JSONAny: Decodable, Equatable {
    init() {}
    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        while !container.isAtEnd { _ = try container.decode(JSONAny.self) }
    }
}
