import Testing
@testable import HTTPTransport

/// A server whose answers are scripted, counting the attempts.
final class Scripted: HTTPTransport, @unchecked Sendable {
    var answers: [Result<HTTPResponse, HTTPTransportError>]
    private(set) var attempts = 0

    init(_ answers: [Result<HTTPResponse, HTTPTransportError>]) {
        self.answers = answers
    }

    func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPTransportError) -> HTTPResponse {
        attempts += 1
        return try answers[min(attempts - 1, answers.count - 1)].get()
    }
}

@Suite struct ServerTextTests {
    @Test func controlCharactersNewlinesAndLengthAreTamed() {
        #expect(ServerText.clean("\u{1B}[31mred\u{07}\nline two\r\n\u{85}end ") == "[31mred line two end")
        #expect(ServerText.clean(String(repeating: "x", count: 1_000)).count == ServerText.longest + 1)
    }

    @Test func everyValueSentIsTakenOutOfAnErrorBody() async throws {
        let request = HTTPRequest.form(
            "https://login.example/t/oauth2/v2.0/token?api-version=2019-08-01",
            [("client_id", "c1"), ("client_secret", "s3cr/t+value"), ("scope", "https://containerregistry.azure.net/.default")],
            headers: [("X-IDENTITY-HEADER", "header-secret")])
        let echo = #"{"error_description":"you sent s3cr/t+value, s3cr%2Ft%2Bvalue, s3cr\/t+value and header-secret"}"#
        let budget = RequestBudget(total: .seconds(5))
        let answer = try await budget.send(request, via: Scripted([.success(HTTPResponse(status: 400, body: Array(echo.utf8)))]))
        let text = String(decoding: answer.body, as: UTF8.self)
        #expect(!text.contains("s3cr") && !text.contains("header-secret"))
        #expect(text == #"{"error_description":"you sent [redacted], [redacted], [redacted] and [redacted]"}"#)
        let token = #"{"access_token":"s3cr/t+value-looking"}"#
        let good = try await budget.send(request, via: Scripted([.success(HTTPResponse(status: 200, body: Array(token.utf8)))]))
        #expect(good.body == Array(token.utf8), "a token answer is never altered")
    }

    @Test func redirectsAndFinalFailuresAreNotRetried() async {
        let request = HTTPRequest(method: .get, url: "https://login.example/token")
        let redirect = Scripted([.success(HTTPResponse(status: 307, headers: [("Location", "http://evil.example/x?y")]))])
        await #expect(throws: HTTPTransportError.redirected(host: "https://login.example", status: 307, location: "http://evil.example/x?y")) {
            try await RequestBudget(total: .seconds(5)).send(request, via: redirect)
        }
        #expect(redirect.attempts == 1)
        for final in [HTTPTransportError.tlsFailed(host: "h", reason: "r"), .responseTooLarge(host: "h")] {
            let transport = Scripted([.failure(final)])
            await #expect(throws: final) { try await RequestBudget(total: .seconds(5)).send(request, via: transport) }
            #expect(transport.attempts == 1)
        }
        let refused = Scripted([.failure(.connectionFailed(host: "h", reason: "refused")), .success(HTTPResponse(status: 200))])
        #expect((try? await RequestBudget(total: .seconds(5)).send(request, via: refused))?.status == 200)
    }

    @Test func aProbeWithoutAnswerIsNotRetried() async {
        let request = HTTPRequest(method: .get, url: "http://169.254.169.254/metadata/identity/oauth2/token")
        let silent = Scripted([.failure(.timedOut(host: "h"))])
        await #expect(throws: HTTPTransportError.noAnswerToProbe(cause: HTTPTransportError.timedOut(host: "h").cause)) {
            try await RequestBudget(total: .seconds(5)).send(request, via: silent, probe: .milliseconds(100))
        }
        #expect(silent.attempts == 1)
    }
}
