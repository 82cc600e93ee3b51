#if canImport(Glibc)
import Glibc
#endif

/// The system resolver, as every client on the machine uses it (`/etc/hosts`, then DNS).
enum HostLookup {
    /// The host's addresses, or the resolver's reason for having none.
    static func addresses(of host: String) -> Result<[String], LookupFailure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { return .failure(LookupFailure(reason: String(cString: gai_strerror(status)))) }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var node = list
        while let entry = node {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(address) { addresses.append(address) }
            }
            node = entry.pointee.ai_next
        }
        return .success(addresses)
    }

    struct LookupFailure: Error {
        let reason: String
    }

    /// "https://[::1]:8443/acr/x" → "::1"
    static func host(of url: String) -> String {
        var authority = Substring(url)
        if let scheme = authority.firstRange(of: "://") { authority = authority[scheme.upperBound...] }
        authority = authority.prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") { return String(authority.dropFirst().prefix { $0 != "]" }) }
        return String(authority.prefix { $0 != ":" })
    }
}
