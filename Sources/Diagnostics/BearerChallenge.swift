/// A `WWW-Authenticate` challenge: `Bearer realm="https://x.azurecr.io/oauth2/token",service="x.azurecr.io"`.
struct BearerChallenge: Equatable {
    let scheme: String
    let parameters: [String: String]

    /// Parses the scheme and its auth-params (RFC 9110 §11.2); quoted values may hold commas and `\"`.
    init?(_ header: String) {
        var rest = Substring(header).drop { $0 == " " }
        let scheme = rest.prefix { $0 != " " }
        guard !scheme.isEmpty else { return nil }
        rest = rest.dropFirst(scheme.count)
        var parameters: [String: String] = [:]
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = String(rest[..<equals]).trimmingSpaces.lowercased()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(character); escaped = false }
                    else if character == "\\" { escaped = true }
                    else if character == "\"" { break }
                    else { value.append(character) }
                }
            } else {
                value = String(rest.prefix { $0 != "," }).trimmingSpaces
                rest = rest.drop { $0 != "," }
            }
            parameters[name] = value
        }
        self.scheme = String(scheme)
        self.parameters = parameters
    }

    var isBearer: Bool { scheme.lowercased() == "bearer" }
    var realm: String? { parameters["realm"] }
    var service: String? { parameters["service"] }
}
