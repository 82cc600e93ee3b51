import Synchronization

/// A transport made at its first use: a process that answers from the cache never reads the proxy and CA
/// settings, nor touches the code that does (the pages it would fault in are peak memory of every `get`).
public final class DeferredTransport: HTTPTransport {
    private let make: @Sendable () -> any HTTPTransport
    private let made = Mutex<(any HTTPTransport)?>(nil)

    public init(_ make: @escaping @Sendable () -> any HTTPTransport) {
        self.make = make
    }

    private var transport: any HTTPTransport {
        made.withLock { made in
            if made == nil { made = make() }
            return made!
        }
    }

    public func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPTransportError) -> HTTPResponse {
        try await transport.send(request, timeout: timeout)
    }

    public func prepare() {
        transport.prepare()
    }
}
