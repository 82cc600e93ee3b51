import ErrorExplanation
/// A registry address as Docker and other clients write it, and the key under which all its spellings meet.
///
/// `https://Reg.Example.com/`, `reg.example.com` and `http://reg.example.com` are one registry;
/// `reg.example.com:5000` is another. Docker Hub answers to each of the names clients use for it.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address exactly as given (after trimming surrounding whitespace).
    public let original: String
    /// The comparison key: lowercase `host[:port][/path]`, no scheme, no trailing slash, no `/v1`/`/v2`, no
    /// `:443` (HTTPS's default port).
    public let key: String

    public var description: String { original }

    /// The key shared by every name of Docker Hub.
    public static let dockerHubKey = "docker.io"
    private static let dockerHubHosts: Set<String> = [
        "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com",
    ]

    public init(_ text: String) throws(ServerAddressError) {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        guard !trimmed.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            throw .invalidCharacter
        }

        var rest = Substring(trimmed)
        var isPlainHTTP = false
        if let schemeEnd = Self.firstSchemeSeparator(in: rest) {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            isPlainHTTP = scheme == "http"
            // Only a real scheme is named in the message: anything before "://" could be a pasted secret.
            guard Self.isScheme(scheme) else { throw .invalidHost }
            guard scheme == "https" || scheme == "http" else { throw .unsupportedScheme(String(scheme)) }
            rest = rest[schemeEnd.upperBound...]
        }
        guard !rest.contains("?"), !rest.contains("#") else { throw .queryOrFragment }

        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = rest[authorityEnd...]
        guard !authority.contains("@") else { throw .userInfo }

        var (host, port) = try Self.split(authority)
        let lowerHost = host.lowercased()
        // HTTPS's own port names the same registry as no port (nerdctl asks for `host:443` first).
        if port == "443", !isPlainHTTP { port = nil }

        while path.hasSuffix("/") { path = path.dropLast() }
        if path == "/v1" || path == "/v2" { path = "" }

        if Self.dockerHubHosts.contains(lowerHost), port == nil, path.isEmpty {
            key = Self.dockerHubKey
        } else {
            key = lowerHost + (port.map { ":\($0)" } ?? "") + path
        }
        original = trimmed
    }

    /// The host, lowercased, without port.
    public var host: String {
        let authority = key.prefix { $0 != "/" }
        if authority.hasPrefix("[") { return String(authority.prefix { $0 != "]" }) + "]" }
        return String(authority.prefix { $0 != ":" })
    }

    /// The first `://`, found without `firstRange(of:)`: every `get` parses an address, and that one call
    /// paged in 256 KiB of the string-processing library.
    private static func firstSchemeSeparator(in text: Substring) -> Range<Substring.Index>? {
        var start = text.startIndex
        while let colon = text[start...].firstIndex(of: ":") {
            if text[colon...].hasPrefix("://") { return colon..<text.index(colon, offsetBy: 3) }
            start = text.index(after: colon)
        }
        return nil
    }

    /// RFC 3986: a letter, then letters, digits, `+`, `-` or `.`; short, as every scheme is.
    private static func isScheme(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 16, first.isASCIILetter else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) }
    }

    /// A DNS name or IPv4 address (letters, digits, `-`, `.`, `_`), or an IPv6 literal in brackets.
    private static func checkHost(_ host: Substring) throws(ServerAddressError) {
        if host.hasPrefix("[") {
            let inside = host.dropFirst().dropLast()
            guard host.hasSuffix("]"), inside.contains(":"),
                  inside.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." })
            else { throw .invalidHost }
            return
        }
        guard host.unicodeScalars.allSatisfy(\.isASCII) else { throw .nonASCIIHost }
        guard host.unicodeScalars.allSatisfy({ $0.isASCIILetter || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0) })
        else { throw .invalidHost }
    }

    /// Host and port, the port as its number (`05000` is `5000`).
    private static func split(_ authority: Substring) throws(ServerAddressError) -> (Substring, String?) {
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidHost }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidHost }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(":") || host.hasPrefix("[") else { throw .invalidHost }
        try checkHost(host)
        guard let port else { return (host, nil) }
        guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCIIDigit), let number = Int(port),
              (1...65535).contains(number)
        else { throw .invalidPort }
        return (host, String(number))
    }
}

public enum ServerAddressError: ExplainedError, Equatable, Sendable {
    case empty
    case invalidCharacter
    case unsupportedScheme(String)
    case userInfo
    case queryOrFragment
    case invalidHost
    case nonASCIIHost
    case invalidPort

    public var cause: String {
        switch self {
        case .empty: "no credentials server URL"
        case .invalidCharacter: "invalid server URL: it contains a space or a control character"
        case .unsupportedScheme(let scheme): "invalid server URL: scheme '\(scheme)' is not supported"
        case .userInfo: "invalid server URL: it contains a user name (user@host)"
        case .queryOrFragment: "invalid server URL: it contains '?' or '#'"
        case .invalidHost: "invalid server URL: the host is missing or malformed"
        case .nonASCIIHost: "invalid server URL: the host has letters outside ASCII"
        case .invalidPort: "invalid server URL: the port must be a number from 1 to 65535"
        }
    }

    public var fix: String? {
        switch self {
        case .empty, .invalidPort: nil
        case .invalidCharacter, .queryOrFragment, .invalidHost: "give the registry as host[:port]"
        case .unsupportedScheme: "use https://, http:// or none"
        case .userInfo: "give the registry as host[:port] and the user separately"
        case .nonASCIIHost: "give its ASCII form (punycode, xn--…), as image references do"
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension String {
    /// Trims what Go's `strings.TrimSpace` trims for the ASCII range (Docker sends a trailing newline at most).
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        let isSpace = { (s: Unicode.Scalar) in s == " " || ("\t"..."\r").contains(s) }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }),
              let end = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(scalars[start...end])
    }
}

extension ServerAddress {
    /// The key of a stored server URL, or nil for one that is not a valid address (never matched).
    public static func key(of url: String) -> String? { try? ServerAddress(url).key }
}
