import Testing
@testable import DockerConfiguration

@Suite struct JSONValueTests {
    /// A configuration as Docker writes it (tabs, Go's escapes), with everything a parser could lose.
    static let rich = #"""
        {
            "auths": {
                "https://index.docker.io/v1/": {},
                "registry.example.com:5000": {
                    "auth": "dXNlcjpwYXNz",
                    "email": "é@例え.jp"
                }
            },
            "credsStore": "desktop",
            "HttpHeaders": {
                "User-Agent": "tab\there \"quoted\" back\\slash \u003chtml\u003e \u0026 \u2028 \u0001 \b\f 😀 /"
            },
            "numbers": [
                1e3,
                -0.5,
                12345678901234567890123,
                0,
                1.50E+10,
                -0e-0
            ],
            "nested": [
                [],
                {},
                [
                    {
                        "deep": null,
                        "flags": [
                            true,
                            false
                        ]
                    }
                ]
            ],
            "proxies": {
                "default": {
                    "httpProxy": "http://proxy.example:3128",
                    "noProxy": "*.test.example,127.0.0.0/8"
                }
            }
        }
        """#.replacingTabs()

    @Test func aFileDockerWroteComesBackByteForByte() throws {
        let bytes = Array(Self.rich.utf8)
        #expect(try JSONValue(parsing: bytes).indentedBytes == bytes)
    }

    @Test func valuesAreDecoded() throws {
        let value = try JSONValue(parsing: Array(#"{"s": "\ud83d\ude00 \/ \u00e9", "n": 1e3, "k": 1, "k": 2}"#.utf8))
        #expect(value.member("s") == .string("😀 / é"))
        #expect(value.member("n") == .number("1e3"))
        // Duplicate keys are kept, in order; the last is the one Go reads.
        #expect(value == .object([
            .init(key: "s", value: .string("😀 / é")), .init(key: "n", value: .number("1e3")),
            .init(key: "k", value: .number("1")), .init(key: "k", value: .number("2")),
        ]))
        #expect(value.member("k") == .number("2"))
    }

    @Test func otherLayoutsAreWrittenAsDockerWritesThem() throws {
        let value = try JSONValue(parsing: Array("{ \"a\" : [ 1 , {} ] ,\r\n  \"b\":{\"c\":\"<é>\"} }".utf8))
        #expect(String(decoding: value.indentedBytes, as: UTF8.self) == """
            {
            \t"a": [
            \t\t1,
            \t\t{}
            \t],
            \t"b": {
            \t\t"c": "\\u003cé\\u003e"
            \t}
            }
            """)
    }

    @Test(arguments: [
        ("", "line 1, column 1: unexpected end of the text, a value was expected"),
        ("{\"a\": 1,}", "line 1, column 9: expected a member name in double quotes"),
        ("[1,]", "line 1, column 4: unexpected character, a value was expected"),
        ("{\n  \"a\": 01\n}", "line 2, column 9: expected ',' or '}' after an object member"),
        ("{\"a\": 1.}", "line 1, column 7: invalid number"),
        ("{\"a\": -}", "line 1, column 7: invalid number"),
        ("{\"a\": 1e}", "line 1, column 7: invalid number"),
        ("{\"a\": +1}", "line 1, column 7: unexpected character, a value was expected"),
        ("{'a': 1}", "line 1, column 2: expected a member name in double quotes"),
        ("{\"a\": 1} // comment", "line 1, column 10: unexpected text after the JSON value"),
        ("{\"a\": \"x\\q\"}", "line 1, column 9: invalid escape sequence"),
        ("{\"a\": \"\\ud800\"}", "line 1, column 8: unpaired UTF-16 surrogate"),
        ("{\"a\": \"\\u12g4\"}", "line 1, column 8: \\u needs four hexadecimal digits"),
        ("{\"a\": \"tab\there\"}", "line 1, column 11: control character in a string (write it as \\u00XX)"),
        ("{\"a\": \"never closed}", "line 1, column 7: unterminated string"),
        ("{\"é\": tru}", "line 1, column 7: unexpected character, a value was expected"),
        ("\u{FEFF}{}", "line 1, column 1: unexpected character, a value was expected"),
    ])
    func invalidJSONIsRefusedWithWhereAndWhy(_ text: String, _ message: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: Array(text.utf8)) }
        do {
            _ = try JSONValue(parsing: Array(text.utf8))
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: [0x22, 0xED, 0xA0, 0x80, 0x22]) }
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect((try? JSONValue(parsing: Array(fine.utf8))) != nil)
    }
}

extension String {
    /// Test texts are indented with four spaces in the source; Docker's files use tabs.
    func replacingTabs() -> String {
        let lines: [Substring] = split(separator: "\n", omittingEmptySubsequences: false)
        return lines.map { line -> String in
            let spaces = line.prefix { $0 == " " }.count
            return String(repeating: "\t", count: spaces / 4) + line.dropFirst(spaces - spaces % 4)
        }.joined(separator: "\n")
    }
}
