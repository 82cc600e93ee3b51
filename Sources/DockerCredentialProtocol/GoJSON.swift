/// JSON output byte-for-byte as Go's `encoding/json` writes it, because docker-credential-helpers
/// defines the protocol with `json.NewEncoder(w).Encode(v)`: keys in declaration order for structs,
/// sorted for maps, `<`, `>`, `&`, U+2028 and U+2029 escaped, one trailing newline.
enum GoJSON {
    static func object(_ pairs: [(String, String)]) -> String {
        var out = "{"
        for (index, (key, value)) in pairs.enumerated() {
            if index > 0 { out += "," }
            out += quoted(key) + ":" + quoted(value)
        }
        return out + "}\n"
    }

    static func sortedObject(_ map: [String: String]) -> String {
        // Go sorts map keys by their bytes.
        object(map.sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) })
    }

    static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}": out += unicodeEscape(scalar.value)
            case _ where scalar.value < 0x20: out += unicodeEscape(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
