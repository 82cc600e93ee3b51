import ErrorExplanation
/// One HTTP exchange, as plain values, so the token logic never depends on an HTTP library and tests
/// can drive it against the local emulator.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public var method: Method
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The SHA-1 thumbprint (hex) of the one server certificate accepted, in place of any CA's word
    /// (Service Fabric's `IDENTITY_SERVER_THUMBPRINT`); such a request never goes through a proxy.
    public var serverThumbprint: String?

    public init(method: Method, url: String, headers: [(String, String)] = [], body: [UInt8] = [], serverThumbprint: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.serverThumbprint = serverThumbprint
    }

    /// A POST of an `application/x-www-form-urlencoded` form, as the OAuth2 endpoints of Azure AD and ACR take it.
    public static func form(_ url: String, _ fields: [(String, String)], headers: [(String, String)] = []) -> HTTPRequest {
        HTTPRequest(
            method: .post, url: url,
            headers: headers + [("Content-Type", "application/x-www-form-urlencoded")],
            body: Array(FormEncoding.encode(fields).utf8))
    }
}

extension HTTPRequest {
    /// Scheme and authority only, for messages: URLs may carry query parameters that do not belong there.
    public static func origin(of url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        return String(url[..<schemeEnd.upperBound]) + String(rest.prefix { $0 != "/" && $0 != "?" })
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns whatever status the server answered; throws only when no answer came.
    func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPTransportError) -> HTTPResponse
    /// Starts readying what the first request needs (libcurl to load), for a process about to make one.
    func prepare()
}

extension HTTPTransport {
    public func prepare() {}
}

public enum HTTPTransportError: ExplainedError, Equatable, Sendable {
    case invalidURL(String)
    case connectionFailed(host: String, reason: String)
    /// The TLS handshake failed: an untrusted certificate (a TLS-inspecting proxy), or no common protocol.
    case tlsFailed(host: String, reason: String)
    /// A server whose certificate must have a given thumbprint presented another (`serverThumbprint`).
    case unexpectedCertificate(host: String, presented: String)
    case timedOut(host: String)
    case responseTooLarge(host: String)
    /// The head came, the whole body did not, by the deadline.
    case bodyStalled(host: String)
    /// A 3xx: token requests are never sent on, so a redirect is a failure of its own.
    case redirected(host: String, status: Int, location: String?)
    /// The extra CA certificates cannot be read (`SSL_CERT_FILE`, the configuration's `caBundle`).
    case unusableCABundle(source: String, path: String)
    /// The proxy would not take the request to `host`; `proxy` is shown without its password.
    case proxyRefused(proxy: String, host: String, reason: String)
    /// `HTTPS_PROXY`, `HTTP_PROXY` or the configuration's `proxy` cannot be used.
    case unusableProxy(ProxyError)
    /// The first attempt of a probe got no answer (`RequestBudget.send(probe:)`).
    /// `cause` is what the attempt met (a refused connection, a timeout).
    case noAnswerToProbe(cause: String)
    /// The HTTP library (libcurl) cannot be loaded: `reason` is the loader's.
    case clientMissing(String)

    /// Where the transport knows the fix; otherwise the callers give one for what the request was for.
    public var fix: String? {
        switch self {
        case .tlsFailed:
            "if a proxy or firewall inspects TLS, set SSL_CERT_FILE (or caBundle in the configuration file) to your organisation's CA bundle"
        case .unexpectedCertificate:
            "check IDENTITY_SERVER_THUMBPRINT; nothing was sent to a server that showed another certificate"
        case .redirected:
            "check the endpoint's address (AZURE_AUTHORITY_HOST, DOCKER_CREDENTIAL_ACR_ENDPOINTS) and any proxy that rewrites answers"
        case .unusableCABundle: "point it at a readable PEM file of CA certificates, or unset it"
        case .proxyRefused:
            "check HTTPS_PROXY (user and password as http://user:password@proxy:port), or add the host to NO_PROXY if it must be reached directly"
        case .unusableProxy(let error): error.fix
        case .responseTooLarge: "check that the address is the token endpoint and not a web page or a proxy's"
        case .clientMissing: "install libcurl's OpenSSL flavour (Debian and Ubuntu: apt-get install libcurl4), or reinstall the package"
        default: nil
        }
    }

    /// Failures that another attempt cannot cure: reported at once, never retried.
    public var isFinal: Bool {
        switch self {
        case .invalidURL, .tlsFailed, .unexpectedCertificate, .responseTooLarge, .redirected, .unusableCABundle, .proxyRefused, .unusableProxy, .clientMissing: true
        case .connectionFailed, .timedOut, .bodyStalled, .noAnswerToProbe: false
        }
    }

    public var cause: String {
        switch self {
        case .invalidURL(let url): "invalid URL \(url)"
        case .connectionFailed(let host, let reason): "cannot connect to \(host): \(reason)"
        case .tlsFailed(let host, let reason): "the TLS handshake with \(host) failed: \(reason)"
        case .unexpectedCertificate(let host, let presented):
            "\(host) presented a certificate (SHA-1 \(presented)) that is not the one IDENTITY_SERVER_THUMBPRINT names"
        case .timedOut(let host): "\(host) did not answer in time"
        case .responseTooLarge(let host): "\(host) sent an answer larger than any token response"
        case .noAnswerToProbe(let cause): cause
        case .bodyStalled(let host): "\(host) sent the head of its answer but not all of its body in time"
        case .redirected(let host, let status, let location):
            "\(host) answered \(status), a redirect to \(location.map(HTTPRequest.origin) ?? "nowhere"), which a token request never follows"
        case .unusableCABundle(let source, let path): "the CA bundle \(path) (from \(source)) cannot be read as PEM certificates"
        case .proxyRefused(let proxy, let host, let reason): "the proxy \(proxy) would not take the request to \(host): \(reason)"
        case .unusableProxy(let error): error.cause
        case .clientMissing(let reason): "the HTTP library cannot be loaded: \(reason)"
        }
    }
}

public enum FormEncoding {
    /// `application/x-www-form-urlencoded` as the WHATWG URL standard defines it: space as `+`, every byte
    /// outside `*-._` and alphanumerics percent-encoded.
    public static func encode(_ fields: [(String, String)]) -> String {
        fields.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    public static func escape(_ text: String) -> String {
        // Bytes in, bytes out: appending scalars to a String cost ~450 instructions a byte, and a request
        // carries a token of a few KiB.
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: " "): out.append(UInt8(ascii: "+"))
            default: out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
