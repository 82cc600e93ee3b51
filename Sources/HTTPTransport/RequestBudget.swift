/// The time one `get` may spend on the network, shared by every request it makes, and the retry policy
/// within it: only answers that may go away by themselves (429, 5xx, no connection) are retried, with
/// exponential backoff or the server's `Retry-After`, and never past the deadline.
public struct RequestBudget: Sendable {
    public let deadline: ContinuousClock.Instant
    /// The longest a single attempt may take, so that one hung connection leaves time for a retry.
    public let attemptTimeout: Duration

    public init(total: Duration, attemptTimeout: Duration = .seconds(8)) {
        deadline = .now + total
        self.attemptTimeout = attemptTimeout
    }

    public var remaining: Duration { deadline - .now }

    /// Sends `request`, retrying as above; returns the last answer, or throws when none came in time. A
    /// retry that runs out of time gives back the answer before it, which names the real cause (a 503),
    /// not the timeout of the attempt that was squeezed in at the end. With `probe`, the first attempt has
    /// that long and is not retried when nothing answers: an endpoint that may not exist at all (IMDS).
    public func send(
        _ request: HTTPRequest, via transport: any HTTPTransport,
        retryingAlso extraStatuses: Set<Int> = [], attemptTimeout: Duration? = nil, probe: Duration? = nil
    ) async throws(HTTPTransportError) -> HTTPResponse {
        var backoff = Duration.milliseconds(250)
        var lastAnswer: HTTPResponse?
        var probing = probe != nil
        while true {
            let timeout = min(probing ? probe! : attemptTimeout ?? self.attemptTimeout, remaining)
            guard timeout > .zero else {
                if let lastAnswer { return lastAnswer }
                throw .timedOut(host: HTTPRequest.origin(of: request.url))
            }
            let wait: Duration
            do throws(HTTPTransportError) {
                var response = try await transport.send(request, timeout: timeout)
                if response.status != 200 { response.body = ServerText.redacting(response.body, sentIn: request) }
                if (300...399).contains(response.status) {
                    throw HTTPTransportError.redirected(
                        host: HTTPRequest.origin(of: request.url), status: response.status, location: response.header("Location"))
                }
                guard Self.isTransient(response.status) || extraStatuses.contains(response.status) else {
                    return response
                }
                lastAnswer = response
                wait = Self.retryAfter(response) ?? backoff
                if .now + wait >= deadline { return response }
            } catch {
                if error.isFinal { throw error }
                if probing { throw .noAnswerToProbe(cause: error.cause) }
                wait = backoff
                if .now + wait >= deadline {
                    if let lastAnswer { return lastAnswer }
                    throw error
                }
            }
            probing = false
            try? await Task.sleep(for: wait)
            backoff = min(backoff * 2, .seconds(4))
        }
    }

    static func isTransient(_ status: Int) -> Bool { status == 429 || (500...599).contains(status) }

    /// `Retry-After` in seconds (the form Azure sends); an HTTP date is ignored in favour of backoff.
    static func retryAfter(_ response: HTTPResponse) -> Duration? {
        guard let value = response.header("Retry-After"), let seconds = Int(value.filter { $0 != " " }), seconds >= 0
        else {
            return nil
        }
        return .seconds(min(seconds, 30))
    }
}

