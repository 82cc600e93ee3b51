import CLibCurl
import HTTPTransport
import Synchronization
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// `HTTPTransport` over libcurl (OpenSSL flavour), loaded with dlopen when a request is coming (see
/// CLibCurl): a `get` answered from the cache loads no HTTP or TLS library at all. libcurl brings what token
/// requests need without the engine carrying an HTTP and TLS stack of its own: proxies with CONNECT and
/// the status that refused it, the system's CAs, connections and TLS sessions kept for the next request
/// to the same host.
///
/// Token requests carry secrets, so the transport follows no redirect (`RequestBudget` turns a 3xx into an
/// error), decompresses nothing, reads no proxy variable behind `ProxySettings`' back, and bounds each
/// answer's body in size and, with its head, in time.
public struct CurlTransport: HTTPTransport {
    /// Answers from Azure AD and ACR are a few KiB; anything far larger is not a token response.
    static let maximumBody = 1 << 20

    let proxies: ProxySettings
    let userAgent: String
    /// The extra CA certificates, read at the first https request (a bundle and a folder of them take tens
    /// of milliseconds), or why they cannot be used: every https request then fails with it, at once.
    let trust: LazyTrust
    /// A proxy setting that cannot be used: every request fails with it, at once (never silently direct).
    let proxyProblem: ProxyError?
    let share = ConnectionShare()

    /// `trust`: the extra CA certificates to accept on top of the system's; `proxies`: where requests go
    /// through (https through CONNECT).
    public init(userAgent: String, trust: TrustSettings, proxies given: Result<ProxySettings, ProxyError>) {
        self.userAgent = userAgent
        proxies = (try? given.get()) ?? ProxySettings(httpsProxy: nil, httpProxy: nil, noProxy: [])
        proxyProblem = if case .failure(let error) = given { error } else { nil }
        self.trust = LazyTrust(trust)
    }

    /// Starts loading libcurl on a thread of its own, for a process that will make requests: the first
    /// request then finds it loaded (or waits for the rest).
    public static func preload() {
        clibcurl_preload()
    }

    public func prepare() {
        Self.preload()
    }

    public func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPTransportError) -> HTTPResponse {
        let pinned = request.serverThumbprint != nil
        if let proxyProblem, !pinned { throw .unusableProxy(proxyProblem) }
        let https = request.url.lowercased().hasPrefix("https://")
        let tls: TLSPolicy
        if let thumbprint = request.serverThumbprint {
            // A pin needs TLS: over plain http it would check nothing.
            guard https else { throw .invalidURL(request.url) }
            tls = TLSPolicy(pin: thumbprint)
        } else if https {
            tls = TLSPolicy(extraRoots: try trust.certificates())
        } else {
            // Plain http (the loopback endpoints of tests and local proxies) needs no trust.
            tls = TLSPolicy(extraRoots: TrustedCertificates())
        }
        // Service Fabric's endpoint is on the cluster's own network: never through a proxy.
        let proxy = pinned ? nil : proxies.proxy(for: request.url)
        let exchange = Exchange(request: request, userAgent: userAgent, proxy: proxy, tls: tls, timeout: timeout, share: share)
        return try await exchange.run()
    }
}

/// One request on one curl handle, performed on a thread of its own: libcurl blocks, and the async caller
/// must not hold one of the few threads Swift's executors have while it does.
final class Exchange: @unchecked Sendable {
    let request: HTTPRequest
    let userAgent: String
    let proxy: ProxyServer?
    let tls: TLSPolicy
    let timeout: Duration
    let share: ConnectionShare
    private var headers: [(String, String)] = []
    private var body: [UInt8] = []
    private var headReceived = false
    private var tooLarge = false

    init(request: HTTPRequest, userAgent: String, proxy: ProxyServer?, tls: TLSPolicy, timeout: Duration, share: ConnectionShare) {
        self.request = request
        self.userAgent = userAgent
        self.proxy = proxy
        self.tls = tls
        self.timeout = timeout
        self.share = share
    }

    func run() async throws(HTTPTransportError) -> HTTPResponse {
        try await DetachedThread.run { self.perform() }.get()
    }

    private func perform() -> Result<HTTPResponse, HTTPTransportError> {
        let host = HTTPRequest.origin(of: request.url)
        if let missing = clibcurl_load() { return .failure(.clientMissing(String(cString: missing))) }
        guard let handle = clibcurl_easy_init() else { return .failure(.connectionFailed(host: host, reason: "libcurl could not start")) }
        defer { clibcurl_easy_cleanup(handle) }
        var list: UnsafeMutablePointer<curl_slist>?
        // curl sends `Expect: 100-continue` before larger bodies, a round trip token endpoints do not need.
        for line in request.headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] { list = clibcurl_slist_append(list, line) }
        defer { clibcurl_slist_free_all(list) }
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let me = Unmanaged.passUnretained(self).toOpaque()
        let tlsContext = Unmanaged.passUnretained(tls).toOpaque()
        let code: CURLcode = errorText.withUnsafeMutableBufferPointer { errorBuffer in
            clibcurl_set_string(handle, CURLOPT_URL, request.url)
            clibcurl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
            clibcurl_set_string(handle, CURLOPT_USERAGENT, userAgent)
            clibcurl_set_pointer(handle, CURLOPT_HTTPHEADER, list)
            clibcurl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer.baseAddress)
            clibcurl_set_long(handle, CURLOPT_NOSIGNAL, 1)
            clibcurl_set_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(timeout))
            clibcurl_set_pointer(handle, CURLOPT_SHARE, share.handle)
            if request.method == .post {
                clibcurl_set_long(handle, CURLOPT_POST, 1)
                clibcurl_set_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
                if request.body.isEmpty {
                    clibcurl_set_string(handle, CURLOPT_COPYPOSTFIELDS, "")
                } else {
                    request.body.withUnsafeBytes { _ = clibcurl_set_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
                }
            } else {
                clibcurl_set_long(handle, CURLOPT_HTTPGET, 1)
            }
            // The proxy is ProxySettings' choice alone: "" keeps libcurl from reading the variables itself.
            clibcurl_set_string(handle, CURLOPT_PROXY, proxy.map { "http://" + ($0.host.contains(":") ? "[\($0.host)]" : $0.host) + ":\($0.port)" } ?? "")
            clibcurl_set_string(handle, CURLOPT_NOPROXY, "")
            if let proxy, let username = proxy.username {
                clibcurl_set_string(handle, CURLOPT_PROXYUSERNAME, username)
                clibcurl_set_string(handle, CURLOPT_PROXYPASSWORD, proxy.password ?? "")
            }
            clibcurl_set_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
            if tls.pin != nil {
                // The thumbprint stands for the chain and the name: the cluster's certificate names a node.
                clibcurl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
                clibcurl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
            }
            clibcurl_set_ssl_context_callback(handle) { _, context, policy in
                Unmanaged<TLSPolicy>.fromOpaque(policy!).takeUnretainedValue().apply(to: OpaquePointer(context!))
                return CURLE_OK
            }
            clibcurl_set_pointer(handle, CURLOPT_SSL_CTX_DATA, tlsContext)
            clibcurl_set_data_callback(handle, CURLOPT_HEADERFUNCTION) { bytes, size, count, exchange in
                Unmanaged<Exchange>.fromOpaque(exchange!).takeUnretainedValue().header(UnsafeRawBufferPointer(start: bytes, count: size * count))
            }
            clibcurl_set_pointer(handle, CURLOPT_HEADERDATA, me)
            clibcurl_set_data_callback(handle, CURLOPT_WRITEFUNCTION) { bytes, size, count, exchange in
                Unmanaged<Exchange>.fromOpaque(exchange!).takeUnretainedValue().bodyPart(UnsafeRawBufferPointer(start: bytes, count: size * count))
            }
            clibcurl_set_pointer(handle, CURLOPT_WRITEDATA, me)
            return clibcurl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            return .failure(failure(code, handle: handle, text: String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), host: host))
        }
        var status = 0
        clibcurl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: headers, body: body))
    }

    private func header(_ line: UnsafeRawBufferPointer) -> Int {
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            headers = []  // a new head (after a 1xx): only the last one counts
            headReceived = true
        } else if let colon = text.firstIndex(of: ":") {
            let value = text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((String(text[..<colon]), String(value.prefix { !$0.isNewline })))
        }
        return line.count
    }

    private func bodyPart(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard body.count + bytes.count <= CurlTransport.maximumBody else {
            tooLarge = true
            return 0  // libcurl stops with CURLE_WRITE_ERROR
        }
        body.append(contentsOf: bytes)
        return bytes.count
    }

    /// The transport's words for what libcurl reports: a timeout, a proxy's refusal with the status it gave
    /// the CONNECT, a TLS failure (with a reason people meet), or a connection that failed.
    private func failure(_ code: CURLcode, handle: UnsafeMutableRawPointer, text: String, host: String) -> HTTPTransportError {
        var connectStatus = 0
        clibcurl_get_long(handle, CURLINFO_HTTP_CONNECTCODE, &connectStatus)
        var osError = 0
        clibcurl_get_long(handle, CURLINFO_OS_ERRNO, &osError)
        let detail = text.isEmpty ? String(cString: clibcurl_easy_strerror(code)) : text
        if let presented = tls.presented { return .unexpectedCertificate(host: host, presented: presented) }
        if let proxy, connectStatus != 0, !(200...299).contains(connectStatus) {
            return .proxyRefused(proxy: proxy.description, host: host, reason: Self.refusal(connectStatus, proxy: proxy))
        }
        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT: return .invalidURL(request.url)
        case CURLE_OPERATION_TIMEDOUT: return headReceived ? .bodyStalled(host: host) : .timedOut(host: host)
        case CURLE_WRITE_ERROR where tooLarge: return .responseTooLarge(host: host)
        case CURLE_COULDNT_RESOLVE_PROXY:
            return .proxyRefused(proxy: proxy?.description ?? "", host: host, reason: "its name does not resolve")
        case CURLE_COULDNT_CONNECT where proxy != nil:
            return .proxyRefused(proxy: proxy!.description, host: host, reason: osError == Int(ECONNREFUSED) ? "connection refused" : detail)
        case CURLE_COULDNT_RESOLVE_HOST: return .connectionFailed(host: host, reason: "the name does not resolve")
        case CURLE_PARTIAL_FILE: return .connectionFailed(host: host, reason: "the answer broke off before its end")
        case CURLE_GOT_NOTHING: return .connectionFailed(host: host, reason: "the connection closed without an answer")
        case CURLE_COULDNT_CONNECT:
            return .connectionFailed(host: host, reason: osError == Int(ECONNREFUSED) ? "connection refused" : detail)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE:
            return .tlsFailed(host: host, reason: Self.tlsReason(detail))
        default: return .connectionFailed(host: host, reason: detail)
        }
    }

    static func refusal(_ status: Int, proxy: ProxyServer) -> String {
        // 401 is what some proxies (tinyproxy) answer in place of 407.
        switch status {
        case 401, 407:
            proxy.username == nil
                ? "it did not open a tunnel: it asks for credentials (\(status))"
                : "it did not open a tunnel: it refused the user and password given (\(status))"
        case 403: "it did not open a tunnel: it does not allow this host (403)"
        default: "it did not open a tunnel: it answered \(status)"
        }
    }

    /// OpenSSL's and libcurl's texts are long; the ones people meet get words.
    static func tlsReason(_ text: String) -> String {
        if text.contains("unable to get local issuer") || text.contains("self-signed") || text.contains("self signed")
            || text.contains("unable to verify") || text.contains("certificate verify failed")
        {
            return "the server's certificate is not trusted by this machine"
        }
        if text.contains("host name") || text.contains("hostname") { return "the server's certificate is for another name" }
        if text.contains("expired") { return "the server's certificate has expired" }
        if text.contains("wrong version number") || text.contains("unsupported protocol") || text.contains("no shared cipher")
            || text.contains("packet length too long")
        {
            return "no TLS version or cipher in common with the server (is it TLS at all?)"
        }
        return text
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// Connections, TLS sessions and name lookups kept across the requests of one transport: the exchange
/// that follows an Azure AD request to the same host reuses its connection, as a browser would. Made at
/// the first request, when libcurl is loaded.
final class ConnectionShare: @unchecked Sendable {
    /// One mutex per kind of shared data: libcurl may hold one while it takes another.
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    private let made = Mutex<SharedHandle?>(nil)

    /// A share handle: curl serialises its use through `locks`.
    struct SharedHandle: @unchecked Sendable { let pointer: UnsafeMutableRawPointer? }

    init() {
        let count = Int(CURL_LOCK_DATA_LAST.rawValue)
        locks = .allocate(capacity: count)
        for index in 0..<count { pthread_mutex_init(locks + index, nil) }
    }

    /// Nil when libcurl made none: each request then keeps its connection to itself.
    var handle: UnsafeMutableRawPointer? {
        made.withLock { made in
            if made == nil { made = SharedHandle(pointer: Self.make(locks)) }
            return made!
        }.pointer
    }

    private static func make(_ locks: UnsafeMutablePointer<pthread_mutex_t>) -> UnsafeMutableRawPointer? {
        guard let handle = clibcurl_share_init() else { return nil }
        for data in [CURL_LOCK_DATA_CONNECT, CURL_LOCK_DATA_SSL_SESSION, CURL_LOCK_DATA_DNS] {
            clibcurl_share_long(handle, CURLSHOPT_SHARE, Int(data.rawValue))
        }
        clibcurl_share_pointer(handle, CURLSHOPT_USERDATA, UnsafeMutableRawPointer(locks))
        clibcurl_share_lock(handle, { _, data, _, locks in
            pthread_mutex_lock(locks!.assumingMemoryBound(to: pthread_mutex_t.self) + Int(data.rawValue))
        }, { _, data, locks in
            pthread_mutex_unlock(locks!.assumingMemoryBound(to: pthread_mutex_t.self) + Int(data.rawValue))
        })
        return handle
    }
}
