import AsyncHTTPClient
import FoundationEssentials
import HTTPTransport
import NIOCore
import NIOSSL

/// `HTTPTransport` over AsyncHTTPClient. Chosen because it links statically (SwiftNIO with BoringSSL)
/// instead of loading libcurl and its 30-odd shared libraries at every start, which URLSession on
/// Linux does even on the cache-hit path that never touches the network. It lives in a target of its own,
/// linked only into the engine binary, so the binary that answers from the cache carries neither it nor
/// the full Foundation it imports.
///
/// Token requests carry secrets, so the client follows no redirect (`RequestBudget` turns a 3xx into an
/// error), decompresses nothing, and bounds each answer's body in size and, with its head, in time.
public struct AsyncHTTPTransport: HTTPTransport {
    /// Answers from Azure AD and ACR are a few KiB; anything far larger is not a token response.
    static let maximumBody = 1 << 20

    /// One client for direct connections and one for each proxy (AsyncHTTPClient has one proxy a client).
    let direct: HTTPClient
    let proxied: [ProxyServer: HTTPClient]
    let proxies: ProxySettings
    let userAgent: String
    /// Why the extra CA certificates cannot be used; every https request then fails with it, at once.
    let trustProblem: HTTPTransportError?

    /// A proxy setting that cannot be used: every request fails with it, at once (never silently direct).
    let proxyProblem: ProxyError?

    /// `trust`: the extra CA certificates to accept on top of the system's; `proxies`: where requests go
    /// through (https through CONNECT).
    public init(userAgent: String, trust: TrustSettings, proxies given: Result<ProxySettings, ProxyError>) {
        self.userAgent = userAgent
        let proxies = (try? given.get()) ?? ProxySettings(httpsProxy: nil, httpProxy: nil, noProxy: [])
        proxyProblem = if case .failure(let error) = given { error } else { nil }
        self.proxies = proxies
        var tls = TLSConfiguration.makeClientConfiguration()
        var problem: HTTPTransportError?
        do {
            tls.additionalTrustRoots = try trust.additionalRoots()
        } catch {
            problem = error
        }
        trustProblem = problem
        func client(_ proxy: ProxyServer?) -> HTTPClient {
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(30)),
                proxy: proxy.map { proxy in
                    .server(host: proxy.host, port: proxy.port, authorization: proxy.username.map {
                        .basic(username: $0, password: proxy.password ?? "")
                    })
                },
                decompression: .disabled)
            // `RequestBudget` retries what may pass, within the budget; a TLS failure is reported at once.
            configuration.connectionPool.retryConnectionEstablishment = false
            return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        }
        direct = client(nil)
        var proxied: [ProxyServer: HTTPClient] = [:]
        for proxy in [proxies.httpsProxy, proxies.httpProxy].compactMap({ $0 }) where proxied[proxy] == nil {
            proxied[proxy] = client(proxy)
        }
        self.proxied = proxied
    }

    public func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPTransportError) -> HTTPResponse {
        if let thumbprint = request.serverThumbprint {
            return try await PinnedTLSRequest.send(request, thumbprint: thumbprint, userAgent: userAgent, timeout: timeout)
        }
        if let proxyProblem { throw .unusableProxy(proxyProblem) }
        // Plain http (the loopback endpoints of tests and local proxies) needs no trust.
        if let trustProblem, request.url.lowercased().hasPrefix("https://") { throw trustProblem }
        let host = HTTPRequest.origin(of: request.url)
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method == .get ? .GET : .POST
        outgoing.headers.add(name: "User-Agent", value: userAgent)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if request.method == .post { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        let proxy = proxies.proxy(for: request.url)
        let client = proxy.flatMap { proxied[$0] } ?? direct
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, deadline: deadline)
        } catch {
            throw Self.failure(error, host: host, url: request.url, proxy: proxy)
        }
        let body = try await Self.body(of: response, until: deadline, host: host)
        return HTTPResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body)
    }

    /// The whole body by the deadline that also bounded the head: a server that stalls or drips after the
    /// head is cut off there.
    private static func body(of response: HTTPClientResponse, until deadline: NIODeadline, host: String) async throws(HTTPTransportError) -> [UInt8] {
        do {
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var buffer = try await response.body.collect(upTo: maximumBody)
                    return buffer.readBytes(length: buffer.readableBytes) ?? []
                }
                group.addTask {
                    let left = deadline - NIODeadline.now()
                    try await Task.sleep(for: .nanoseconds(max(0, left.nanoseconds)))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let body = first else { throw HTTPTransportError.bodyStalled(host: host) }
                return body
            }
        } catch let error as HTTPTransportError {
            throw error
        } catch is NIOTooManyBytesError {
            throw .responseTooLarge(host: host)
        } catch {
            throw failure(error, host: host, url: host, proxy: nil)
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// The transport's words for what NIO and AsyncHTTPClient throw: a timeout, a proxy's refusal, a TLS
    /// failure (with a reason people meet), or a connection that failed.
    static func failure(_ error: any Error, host: String, url: String, proxy: ProxyServer? = nil) -> HTTPTransportError {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .connectTimeout { return .timedOut(host: host) }
            if error == .invalidURL || error == .emptyHost { return .invalidURL(url) }
            if let proxy, error == .proxyAuthenticationRequired {
                return .proxyRefused(proxy: proxy.description, host: host, reason: "it asks for credentials (407)" + (proxy.username == nil ? "" : " and refused the ones given"))
            }
            if let proxy, error == .invalidProxyResponse || error == .httpProxyHandshakeTimeout {
                // AsyncHTTPClient does not say which status refused the CONNECT.
                let why = proxy.username == nil
                    ? "it may want credentials (407) or not allow this host (403)"
                    : "its user and password may be wrong (407), or it does not allow this host (403)"
                return .proxyRefused(proxy: proxy.description, host: host, reason: "it did not open a tunnel; " + why)
            }
        }
        if let proxy, String(describing: error).contains("connectionRefused") || String(describing: error).contains("Connection refused") {
            return .proxyRefused(proxy: proxy.description, host: host, reason: "connection refused")
        }
        let text = String(describing: error)
        if text.contains("NIOSSL") || text.contains("handshake") || text.contains("CERTIFICATE") {
            return .tlsFailed(host: host, reason: tlsReason(text))
        }
        return .connectionFailed(host: host, reason: reason(error))
    }

    /// BoringSSL's reason codes are long; the ones people meet get words.
    private static func tlsReason(_ text: String) -> String {
        if text.contains("CERTIFICATE_VERIFY_FAILED") { return "the server's certificate is not trusted by this machine" }
        if text.contains("hostname") || text.contains("Hostname") { return "the server's certificate is for another name" }
        if text.contains("EXPIRED") { return "the server's certificate has expired" }
        if text.contains("PROTOCOL_VERSION") || text.contains("NO_SHARED_CIPHER") || text.contains("WRONG_VERSION_NUMBER") {
            return "no TLS version or cipher in common with the server (is it TLS at all?)"
        }
        return text
    }

    private static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("NXDOMAIN") || text.contains("lookup") || text.contains("resolve") {
            return "the name does not resolve"
        }
        return text
    }
}

/// CA certificates to trust on top of the system's: `SSL_CERT_FILE` and `SSL_CERT_DIR`, as OpenSSL and Go
/// read them, and the configuration file's `caBundle` (for daemons that get no shell environment).
public struct TrustSettings: Sendable {
    /// (where it was named, path) of each PEM bundle.
    public var files: [(source: String, path: String)]
    /// (where it was named, path) of each folder of PEM files.
    public var folders: [(source: String, path: String)]

    public init(environment: [String: String], caBundle: String?) {
        files = []
        folders = []
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty { files.append(("SSL_CERT_FILE", file)) }
        if let caBundle, !caBundle.isEmpty { files.append(("caBundle in the configuration file", caBundle)) }
        // As OpenSSL: a colon-separated list.
        for folder in (environment["SSL_CERT_DIR"] ?? "").split(separator: ":") { folders.append(("SSL_CERT_DIR", String(folder))) }
    }

    func additionalRoots() throws(HTTPTransportError) -> [NIOSSLAdditionalTrustRoots] {
        var certificates: [NIOSSLCertificate] = []
        for (source, path) in files {
            do {
                certificates += try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw .unusableCABundle(source: source, path: path)
            }
        }
        for (_, folder) in folders {
            // Like Go, every file in the folder, hashed names or not; a folder that is not there adds nothing.
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for path in names.sorted().map({ folder + "/" + $0 }) {
                certificates += (try? NIOSSLCertificate.fromPEMFile(path)) ?? []
            }
        }
        return certificates.isEmpty ? [] : [.certificates(certificates)]
    }
}
