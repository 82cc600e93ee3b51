import Crypto
import HTTPTransport
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One request to a server whose certificate no CA vouches for and which is accepted only when its SHA-1
/// thumbprint is the one given: Service Fabric's identity endpoint, with `IDENTITY_SERVER_THUMBPRINT`, as
/// MSAL checks it. AsyncHTTPClient has no hook for that check, so these requests go over a SwiftNIO
/// channel of their own: one connection, HTTP/1.1, `Connection: close`, the body bounded as elsewhere.
enum PinnedTLSRequest {
    static func send(
        _ request: HTTPRequest, thumbprint: String, userAgent: String, timeout: Duration
    ) async throws(HTTPTransportError) -> HTTPResponse {
        let origin = HTTPRequest.origin(of: request.url)
        guard let target = Target(request.url) else { throw .invalidURL(request.url) }
        let wanted = thumbprint.filter(\.isHexDigit).lowercased()
        let mismatch = MismatchNote()
        let time = AsyncHTTPTransport.timeAmount(timeout)
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            // The thumbprint stands for the chain and the name: the cluster's certificate names a node.
            tls.certificateVerification = .noHostnameVerification
            let context = try NIOSSLContext(configuration: tls)
            let group = MultiThreadedEventLoopGroup.singleton
            let answer = group.next().makePromise(of: HTTPResponse.self)
            let bootstrap = ClientBootstrap(group: group)
                .connectTimeout(time)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, verdict in
                            let presented = (try? certificates.first?.toDERBytes()).map { Insecure.SHA1.hash(data: $0).hexString } ?? ""
                            if presented == wanted {
                                verdict.succeed(.certificateVerified)
                            } else {
                                mismatch.presented = presented
                                verdict.succeed(.failed)
                            }
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(Collector(answer: answer, origin: origin))
                    }
                }
            let channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            let deadline = channel.eventLoop.scheduleTask(in: time) {
                answer.fail(HTTPTransportError.timedOut(host: origin))
                channel.close(promise: nil)
            }
            defer { deadline.cancel() }
            var head = HTTPRequestHead(version: .http1_1, method: request.method == .get ? .GET : .POST, uri: target.pathAndQuery)
            head.headers.add(name: "Host", value: target.authority)
            head.headers.add(name: "User-Agent", value: userAgent)
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in request.headers { head.headers.add(name: name, value: value) }
            if request.method == .post { head.headers.add(name: "Content-Length", value: String(request.body.count)) }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if request.method == .post { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: request.body))), promise: nil) }
            try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
            return try await answer.futureResult.get()
        } catch let error as HTTPTransportError {
            throw error
        } catch {
            if let presented = mismatch.presented { throw .unexpectedCertificate(host: origin, presented: presented) }
            throw AsyncHTTPTransport.failure(error, host: origin, url: request.url)
        }
    }

    /// The thumbprint the server presented when it was not the wanted one, set on the event loop.
    private final class MismatchNote: @unchecked Sendable {
        var presented: String?
    }

    private struct Target {
        var host: String
        var port: Int
        var authority: String
        var pathAndQuery: String

        init?(_ url: String) {
            guard url.lowercased().hasPrefix("https://") else { return nil }
            let rest = url.dropFirst("https://".count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            let path = rest.dropFirst(authority.count)
            let hostPart = authority.hasPrefix("[") ? authority.prefix { $0 != "]" }.dropFirst() : authority.prefix { $0 != ":" }
            let portText = authority.hasPrefix("[") ? authority.drop { $0 != "]" }.dropFirst().drop { $0 == ":" } : authority.drop { $0 != ":" }.dropFirst()
            guard !hostPart.isEmpty, let port = portText.isEmpty ? 443 : Int(portText) else { return nil }
            host = String(hostPart)
            self.port = port
            self.authority = String(authority)
            pathAndQuery = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
        }
    }

    /// Gathers the answer: its head, and its body up to the limit the other requests have.
    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let answer: EventLoopPromise<HTTPResponse>
        let origin: String
        var response = HTTPResponse(status: 0)

        init(answer: EventLoopPromise<HTTPResponse>, origin: String) {
            self.answer = answer
            self.origin = origin
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                response.status = Int(head.status.code)
                response.headers = head.headers.map { ($0.name, $0.value) }
            case .body(var buffer):
                response.body += buffer.readBytes(length: buffer.readableBytes) ?? []
                if response.body.count > AsyncHTTPTransport.maximumBody {
                    answer.fail(HTTPTransportError.responseTooLarge(host: origin))
                    context.close(promise: nil)
                }
            case .end:
                answer.succeed(response)
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            answer.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            answer.fail(HTTPTransportError.connectionFailed(host: origin, reason: "the connection closed before the answer was complete"))
        }
    }
}

extension Digest {
    fileprivate var hexString: String {
        map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
