import ErrorExplanation
/// Which proxy a request goes through, as Docker and the Go helpers decide it (Go's `net/http/httpproxy`,
/// whose rules curl shares in the main): `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http ones (the
/// upper-case name first), and `NO_PROXY` entries that send a host direct. Loopback, link-local (IMDS at
/// 169.254.169.254) and `localhost` are never proxied, as MSAL never proxies managed-identity endpoints.
public struct ProxySettings: Sendable, Equatable {
    public var httpsProxy: ProxyServer?
    public var httpProxy: ProxyServer?
    /// The `NO_PROXY` entries, lower case, trimmed.
    public var noProxy: [String]

    public init(httpsProxy: ProxyServer?, httpProxy: ProxyServer?, noProxy: [String]) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
    }

    /// From the environment, else from the configuration file's `proxy` (daemons such as the kubelet get no
    /// shell environment); throws for a proxy URL that cannot be used.
    public init(
        environment: [String: String], configured: (https: String?, http: String?, noProxy: String?) = (nil, nil, nil)
    ) throws(ProxyError) {
        func variable(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        let https = variable("HTTPS_PROXY", "https_proxy").map { ($0, "HTTPS_PROXY") } ?? configured.https.map { ($0, "proxy.https") }
        let http = variable("HTTP_PROXY", "http_proxy").map { ($0, "HTTP_PROXY") } ?? configured.http.map { ($0, "proxy.http") }
        let exceptions = variable("NO_PROXY", "no_proxy") ?? configured.noProxy ?? ""
        var httpsProxy: ProxyServer?
        var httpProxy: ProxyServer?
        if let (url, source) = https { httpsProxy = try ProxyServer(parsing: url, from: source) }
        if let (url, source) = http { httpProxy = try ProxyServer(parsing: url, from: source) }
        self.init(
            httpsProxy: httpsProxy, httpProxy: httpProxy,
            noProxy: exceptions.split(separator: ",").map { String($0).trimmed.lowercased() }.filter { !$0.isEmpty })
    }

    /// The proxy for `url`, or nil to connect directly.
    public func proxy(for url: String) -> ProxyServer? {
        guard let target = URLParts(url) else { return nil }
        guard let proxy = target.scheme == "https" ? httpsProxy : target.scheme == "http" ? httpProxy : nil else { return nil }
        return goesDirect(host: target.host, port: target.port) ? nil : proxy
    }

    func goesDirect(host: String, port: Int) -> Bool {
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if let ip = IPAddress(host), ip.isLoopback || ip.isLinkLocal { return true }
        for entry in noProxy {
            if entry == "*" { return true }
            if entry.contains("/"), let range = CIDR(entry), let ip = IPAddress(host) {
                if range.contains(ip) { return true }
                continue
            }
            let (name, entryPort) = Self.splitPort(entry)
            if let entryPort, entryPort != port { continue }
            if let ip = IPAddress(name) {
                if IPAddress(host) == ip { return true }
                continue
            }
            // "*.example.com" is ".example.com": subdomains only; "example.com" matches itself and its subdomains.
            var pattern = name.hasPrefix("*.") ? String(name.dropFirst()) : name
            if pattern.hasPrefix(".") {
                if host.hasSuffix(pattern) { return true }
                pattern.removeFirst()
                continue
            }
            if host == pattern || host.hasSuffix("." + pattern) { return true }
        }
        return false
    }

    /// "host:port" → (host, port); IPv6 literals keep their colons ("[::1]:80", "::1").
    static func splitPort(_ entry: String) -> (String, Int?) {
        if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
            let host = String(entry[entry.index(after: entry.startIndex)..<close])
            let rest = entry[entry.index(after: close)...]
            return (host, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        guard entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":"),
              let port = Int(entry[entry.index(after: colon)...])
        else { return (entry, nil) }
        return (String(entry[..<colon]), port)
    }
}

/// An http:// proxy and, when its URL has them, the user and password for `Proxy-Authorization: Basic`.
public struct ProxyServer: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?

    public init(host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// `http://user:password@proxy:3128`, or `proxy:3128` as Go reads it (http:// assumed).
    public init(parsing text: String, from source: String) throws(ProxyError) {
        var rest = Substring(text.trimmed)
        if let scheme = rest.firstRange(of: "://") {
            guard rest[..<scheme.lowerBound].lowercased() == "http" else { throw .unsupportedScheme(source: source, url: ProxyServer.redacting(text)) }
            rest = rest[scheme.upperBound...]
        }
        rest = rest.prefix { $0 != "/" }
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at]
            let colon = user.firstIndex(of: ":")
            username = FormEncoding.decode(user[..<(colon ?? user.endIndex)])
            password = colon.map { FormEncoding.decode(user[user.index(after: $0)...]) }
            rest = rest[rest.index(after: at)...]
        }
        let (name, port) = ProxySettings.splitPort(String(rest))
        guard !name.isEmpty, port.map({ (1...65535).contains($0) }) ?? true else {
            throw .invalid(source: source, url: ProxyServer.redacting(text))
        }
        host = name
        self.port = port ?? 80
    }

    /// Never with the password: `http://…@proxy:3128`.
    public var description: String { "http://" + (username == nil ? "" : "…@") + host + ":\(port)" }

    /// A proxy URL as given, without its user information.
    public static func redacting(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url.contains("@") ? "…@" + url.split(separator: "@").last! : url }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + "…" + String(rest[at...])
    }
}

public enum ProxyError: ExplainedError, Equatable {
    case unsupportedScheme(source: String, url: String)
    case invalid(source: String, url: String)

    public var cause: String {
        switch self {
        case .unsupportedScheme(let source, let url): "\(source)=\(url) is not an http:// proxy"
        case .invalid(let source, let url): "\(source)=\(url) is not a proxy address"
        }
    }

    public var fix: String? { "give the proxy as http://[user:password@]host:port" }
}

/// Scheme, host (lower case, IPv6 without brackets) and port of a URL.
struct URLParts {
    var scheme: String
    var host: String
    var port: Int

    init?(_ url: String) {
        guard let end = url.firstRange(of: "://") else { return nil }
        scheme = url[..<end.lowerBound].lowercased()
        var authority = url[end.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let (name, port) = ProxySettings.splitPort(String(authority))
        host = name.lowercased()
        self.port = port ?? (scheme == "https" ? 443 : 80)
    }
}

/// An IPv4 or IPv6 address, as 16 bytes (IPv4 mapped).
struct IPAddress: Equatable {
    let bytes: [UInt8]
    let isV4: Bool

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, let octets = Optional(parts.compactMap { UInt8($0) }), octets.count == 4 {
            bytes = Array(repeating: 0, count: 10) + [0xFF, 0xFF] + octets
            isV4 = true
            return
        }
        guard text.contains(":"), let v6 = Self.parseV6(text) else { return nil }
        bytes = v6
        isV4 = false
    }

    var isLoopback: Bool { isV4 ? bytes[12] == 127 : bytes == Array(repeating: 0, count: 15) + [1] }
    var isLinkLocal: Bool { isV4 ? bytes[12] == 169 && bytes[13] == 254 : bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 }

    /// "fd00::1", "::1", "2001:db8:0:0:0:0:0:1"; no embedded IPv4 or zone.
    private static func parseV6(_ text: String) -> [UInt8]? {
        func groups(_ part: Substring) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var out: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard group.count <= 4, let value = UInt16(group, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        var head: [UInt16], tail: [UInt16] = []
        if let gap = text.firstRange(of: "::") {
            guard let before = groups(text[..<gap.lowerBound]), let after = groups(text[gap.upperBound...]),
                  before.count + after.count <= 7
            else { return nil }
            head = before + Array(repeating: 0, count: 8 - before.count - after.count)
            tail = after
        } else {
            guard let all = groups(text[...]), all.count == 8 else { return nil }
            head = all
        }
        return (head + tail).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

/// A CIDR range from `NO_PROXY` ("10.0.0.0/8", "fd00::/8").
struct CIDR {
    let network: IPAddress
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let bits = Int(parts[1]) else { return nil }
        let length = address.isV4 ? bits + 96 : bits
        guard (0...(address.isV4 ? 32 : 128)).contains(bits) else { return nil }
        network = address
        prefix = length
    }

    func contains(_ address: IPAddress) -> Bool {
        guard address.isV4 == network.isV4 else { return false }
        for bit in 0..<prefix {
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            if address.bytes[bit / 8] & mask != network.bytes[bit / 8] & mask { return false }
        }
        return true
    }
}

extension String {
    var trimmed: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

}
