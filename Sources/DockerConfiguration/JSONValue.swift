/// A JSON document as it is written, for editing a file that is not ours: objects keep their members in
/// file order (duplicates too), and numbers keep their text, so that whatever we do not change is written
/// back as it was (no `1e3` → `1000`, no rounding of large integers).
enum JSONValue: Equatable, Sendable {
    case object([Member])
    case array([JSONValue])
    case string(String)
    /// The number's text as the file has it, valid by JSON's grammar.
    case number(String)
    case bool(Bool)
    case null

    struct Member: Equatable, Sendable {
        var key: String
        var value: JSONValue
    }
}

/// Where and why a text is not JSON.
struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    let line: Int
    let column: Int
    let problem: String

    var description: String { "line \(line), column \(column): \(problem)" }
}

// MARK: - Parsing

extension JSONValue {
    /// Nesting deeper than this is refused rather than risk the stack; Docker's files have four levels.
    static let maximumDepth = 256

    /// Parses `bytes` strictly (RFC 8259): UTF-8, no comments, no trailing commas, one value and nothing
    /// after it but whitespace.
    init(parsing bytes: [UInt8]) throws(JSONSyntaxError) {
        var parser = Parser(bytes: bytes)
        self = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        func error(_ problem: String, at offset: Int? = nil) -> JSONSyntaxError {
            let prefix = bytes[..<min(offset ?? index, bytes.count)]
            let lineStart = (prefix.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            // Columns count characters: UTF-8 continuation bytes do not start one.
            let column = prefix[lineStart...].filter { $0 & 0xC0 != 0x80 }.count + 1
            return JSONSyntaxError(line: prefix.count { $0 == UInt8(ascii: "\n") } + 1, column: column, problem: problem)
        }

        private var next: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = next, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            skipWhitespace()
            guard let byte = next else { throw error("unexpected end of the text, a value was expected") }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < JSONValue.maximumDepth else { throw error("nested deeper than \(JSONValue.maximumDepth) levels") }
                return byte == UInt8(ascii: "{") ? try object(depth: depth) : try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character, a value was expected")
            }
        }

        private mutating func literal(_ word: String, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
            guard bytes[index...].starts(with: word.utf8) else { throw error("unexpected character, a value was expected") }
            index += word.utf8.count
            return value
        }

        private mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            index += 1
            var members: [Member] = []
            skipWhitespace()
            if next == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard next == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
                let key = try string()
                skipWhitespace()
                guard next == UInt8(ascii: ":") else { throw error("expected ':' after the member name") }
                index += 1
                members.append(Member(key: key, value: try value(depth: depth + 1)))
                skipWhitespace()
                switch next {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return .object(members)
                default: throw error("expected ',' or '}' after an object member")
                }
            }
        }

        private mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if next == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                switch next {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return .array(elements)
                default: throw error("expected ',' or ']' after an array element")
                }
            }
        }

        private mutating func number() throws(JSONSyntaxError) -> JSONValue {
            let start = index
            if next == UInt8(ascii: "-") { index += 1 }
            if next == UInt8(ascii: "0") {
                index += 1
            } else {
                try digits(start: start)
            }
            if next == UInt8(ascii: ".") {
                index += 1
                try digits(start: start)
            }
            if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
                index += 1
                if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { index += 1 }
                try digits(start: start)
            }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        private mutating func digits(start: Int) throws(JSONSyntaxError) {
            let first = index
            while let byte = next, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            guard index > first else { throw error("invalid number", at: start) }
        }

        mutating func string() throws(JSONSyntaxError) -> String {
            let start = index
            index += 1
            var utf8: [UInt8] = []
            while true {
                guard let byte = next else { throw error("unterminated string", at: start) }
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let string = String(validating: utf8, as: UTF8.self) else {
                        throw error("the string is not valid UTF-8", at: start)
                    }
                    return string
                case UInt8(ascii: "\\"): try escape(into: &utf8)
                case 0..<0x20: throw error("control character in a string (write it as \\u00XX)")
                default:
                    utf8.append(byte)
                    index += 1
                }
            }
        }

        private mutating func escape(into utf8: inout [UInt8]) throws(JSONSyntaxError) {
            let start = index
            index += 1
            guard let letter = next else { throw error("unterminated string", at: start) }
            index += 1
            switch letter {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(letter)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var value = try hex4(start: start)
                if (0xD800..<0xDC00).contains(value), bytes[index...].starts(with: "\\u".utf8) {
                    index += 2
                    let low = try hex4(start: start)
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired UTF-16 surrogate", at: start) }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(value) else { throw error("unpaired UTF-16 surrogate", at: start) }
                UTF8.encode(scalar) { utf8.append($0) }
            default: throw error("invalid escape sequence", at: start)
            }
        }

        private mutating func hex4(start: Int) throws(JSONSyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("\\u needs four hexadecimal digits", at: start) }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("\\u needs four hexadecimal digits", at: start)
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }
    }
}

// MARK: - Writing

extension JSONValue {
    /// The value as Go's `json.MarshalIndent(v, "", "\t")` writes it, the layout Docker gives config.json,
    /// so that a file Docker wrote comes back byte for byte.
    var indentedBytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out, depth: 0)
        return out
    }

    /// The value on one line, for messages (strings quoted as in the file).
    var text: String { String(decoding: indentedBytes, as: UTF8.self) }

    private func write(to out: inout [UInt8], depth: Int) {
        switch self {
        case .object(let members) where !members.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (position, member) in members.enumerated() {
                Self.newline(to: &out, depth: depth + 1, comma: position > 0)
                Self.appendQuoted(member.key, to: &out)
                out += [UInt8(ascii: ":"), UInt8(ascii: " ")]
                member.value.write(to: &out, depth: depth + 1)
            }
            Self.newline(to: &out, depth: depth, comma: false)
            out.append(UInt8(ascii: "}"))
        case .object: out += "{}".utf8
        case .array(let elements) where !elements.isEmpty:
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                Self.newline(to: &out, depth: depth + 1, comma: position > 0)
                element.write(to: &out, depth: depth + 1)
            }
            Self.newline(to: &out, depth: depth, comma: false)
            out.append(UInt8(ascii: "]"))
        case .array: out += "[]".utf8
        case .string(let string): Self.appendQuoted(string, to: &out)
        case .number(let text): out += text.utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .null: out += "null".utf8
        }
    }

    private static func newline(to out: inout [UInt8], depth: Int, comma: Bool) {
        if comma { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\n"))
        out += repeatElement(UInt8(ascii: "\t"), count: depth)
    }

    /// Go's escaping (1.22 and later): `"`, `\`, control characters, `<`, `>`, `&`, U+2028 and U+2029.
    private static func appendQuoted(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"", "\\": out += [UInt8(ascii: "\\"), UInt8(scalar.value)]
            case "\u{08}": out += "\\b".utf8
            case "\u{0C}": out += "\\f".utf8
            case "\n": out += "\\n".utf8
            case "\r": out += "\\r".utf8
            case "\t": out += "\\t".utf8
            case "\u{00}"..."\u{1F}", "<", ">", "&", "\u{2028}", "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u".utf8
                out += repeatElement(UInt8(ascii: "0"), count: 4 - hex.utf8.count)
                out += hex.utf8
            default: UTF8.encode(scalar) { out.append($0) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
