import AsyncHTTPClient
import HTTPTransport
import NIOCore

/// `HTTPTransport` over AsyncHTTPClient. Chosen because it links statically (SwiftNIO with BoringSSL)
/// instead of loading libcurl and its 30-odd shared libraries at every start, which URLSession on
/// Linux does even on the cache-hit path that never touches the network. It lives in a target of its own,
/// linked only into the engine binary, so the binary that answers from the cache carries neither it nor
/// the full Foundation it imports.
public struct AsyncHTTPTransport: HTTPTransport {
    /// Answers from Azure AD and ACR are a few KiB; anything far larger is not a token response.
    static let maximumBody = 1 << 20

    public init() {}

    public func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPTransportError) -> HTTPResponse {
        let host = HTTPRequest.origin(of: request.url)
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method == .get ? .GET : .POST
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if request.method == .post { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        let (seconds, attoseconds) = timeout.components
        let amount = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        do {
            let response = try await HTTPClient.shared.execute(outgoing, timeout: amount)
            var body = try await response.body.collect(upTo: Self.maximumBody)
            return HTTPResponse(
                status: Int(response.status.code),
                headers: response.headers.map { ($0.name, $0.value) },
                body: body.readBytes(length: body.readableBytes) ?? [])
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout {
            throw .timedOut(host: host)
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost {
            throw .invalidURL(request.url)
        } catch is NIOTooManyBytesError {
            throw .responseTooLarge(host: host)
        } catch {
            let text = String(describing: error)
            if text.contains("NIOSSL") || text.contains("handshake") || text.contains("CERTIFICATE") {
                throw .tlsFailed(host: host, reason: Self.tlsReason(text))
            }
            throw .connectionFailed(host: host, reason: Self.reason(error))
        }
    }

    /// BoringSSL's reason codes are long; the ones people meet get words.
    private static func tlsReason(_ text: String) -> String {
        if text.contains("CERTIFICATE_VERIFY_FAILED") { return "the server's certificate is not trusted by this machine" }
        if text.contains("hostname") || text.contains("Hostname") { return "the server's certificate is for another name" }
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
