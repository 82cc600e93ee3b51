/// What servers say is data, not output: before any of it reaches an error line, stdout, stderr or the
/// log, the values the helper itself sent are taken out of it (a server that echoes a request would put
/// the client secret or the Azure AD token into the message), and then control characters and excess
/// length.
public enum ServerText {
    /// The most of a server's message that an error line quotes.
    public static let longest = 300

    /// `text` as one printable line of at most `longest` characters: ESC, BEL, newlines and every other
    /// control character become a space.
    public static func clean(_ text: some StringProtocol) -> String {
        var out = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            let isSpace = scalar.properties.generalCategory == .control || scalar == " "
                || scalar.properties.generalCategory == .lineSeparator || scalar.properties.generalCategory == .paragraphSeparator
            if isSpace {
                if !lastWasSpace && !out.isEmpty { out.unicodeScalars.append(" ") }
            } else {
                out.unicodeScalars.append(scalar)
            }
            lastWasSpace = isSpace
        }
        while out.hasSuffix(" ") { out.removeLast() }
        return out.count > longest ? String(out.prefix(longest)) + "…" : out
    }

    /// `body` with every value of `request` taken out, in the spellings a server may echo it in.
    static func redacting(_ body: [UInt8], sentIn request: HTTPRequest) -> [UInt8] {
        var text = String(decoding: body, as: UTF8.self)
        let values = request.sentValues.filter { $0.count >= 6 }.sorted { $0.count > $1.count }
        for value in values {
            for spelling in Set([value, FormEncoding.escape(value), value.replacing("/", with: "\\/")]) {
                text = text.replacing(spelling, with: "[redacted]")
            }
        }
        return Array(text.utf8)
    }
}

extension HTTPRequest {
    /// Everything this request told the server: its form fields, query parameters and header values.
    var sentValues: [String] {
        var values = headers.map(\.1)
        if let query = url.firstIndex(of: "?") { values += FormEncoding.values(in: String(url[url.index(after: query)...])) }
        if headers.contains(where: { $0.0 == "Content-Type" && $0.1 == "application/x-www-form-urlencoded" }) {
            values += FormEncoding.values(in: String(decoding: body, as: UTF8.self))
        }
        return values
    }
}

extension FormEncoding {
    /// The decoded values of `a=1&b=2`.
    static func values(in form: String) -> [String] {
        form.split(separator: "&").compactMap { pair in
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            return decode(pair[pair.index(after: equals)...])
        }
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let end = utf8.index(index, offsetBy: 3, limitedBy: utf8.endIndex),
                      let value = UInt8(String(decoding: utf8[utf8.index(after: index)..<end], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = end
                continue
            } else {
                bytes.append(byte)
            }
            index = utf8.index(after: index)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
