import HTTPTransport
import ErrorExplanation
import DockerCredentialProtocol
import ACRTokenExchange
import Testing
import Foundation
@testable import Diagnostics

@Suite struct ReportTests {
    let diagnosis = Diagnosis(
        checks: [
            Check(.dockerCommand, .ok, title: "Docker CLI", found: "/usr/bin/docker"),
            Check(.aadToken, .error, registry: "r.azurecr.io", title: "Azure AD token", found: "expired secret", fix: "renew the secret"),
            Check(.clientSecretExpiry, .error, registry: "r.azurecr.io", title: "Client secret", found: "expired", fix: "renew the secret"),
            Check(.proxy, .warning, registry: "r.azurecr.io", title: "Proxy", found: "set", fix: "allow direct HTTPS"),
            Check(.tls, .skipped, registry: "r.azurecr.io", title: "TLS", found: "plain http"),
        ],
        registries: ["r.azurecr.io"])

    @Test func textGroupsMarksAndNumbersEachFixOnce() {
        let text = Report.text(diagnosis, colour: false)
        // A code only beside a problem: after a ✓ or a -, an `…_ERROR` would read as one.
        #expect(text.contains("This machine\n  Docker configuration\n    ✓ Docker CLI: /usr/bin/docker\n"))
        #expect(text.contains("r.azurecr.io\n  Registry name\n    - TLS: plain http\n"))
        #expect(text.contains("✗ Azure AD token: expired secret [1]  AAD_TOKEN_ERROR\n"))
        #expect(text.contains("✗ Client secret: expired [1]"))
        #expect(text.contains("! Proxy: set [2]"))
        #expect(text.contains("  [1] r.azurecr.io: renew the secret\n  [2] r.azurecr.io: allow direct HTTPS\n"))
        #expect(text.hasSuffix("A login would fail (2 errors, 1 warning).\n"))
        #expect(!text.contains("\u{1B}"))
        #expect(Report.text(diagnosis, colour: true).contains("\u{1B}[31m✗\u{1B}[0m"))
    }

    @Test func jsonHasEveryFieldOfEveryCheck() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Report.json(diagnosis).utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        #expect(object["registries"] as? [String] == ["r.azurecr.io"])
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.count == 5)
        #expect(checks.allSatisfy { Set($0.keys) == ["code", "status", "group", "registry", "title", "found", "fix"] })
        #expect(checks[0]["registry"] is NSNull && checks[0]["fix"] is NSNull)
        #expect(checks[1]["code"] as? String == "AAD_TOKEN_ERROR" && checks[1]["group"] as? String == "Credentials valid")
    }

    @Test func warningsAloneLetALoginSucceed() {
        let fine = Diagnosis(checks: [Check(.proxy, .warning, title: "Proxy", found: "set", fix: "x")], registries: [])
        #expect(fine.loginWouldSucceed)
        #expect(Report.text(fine, colour: false).hasSuffix("A login would succeed (0 errors, 1 warning).\n"))
    }
}

@Suite struct FormattingTests {
    @Test func durationsAndTimes() {
        #expect(Formatting.duration(40) == "40 s")
        #expect(Formatting.duration(12 * 60) == "12 min")
        #expect(Formatting.duration(3 * 3600 - 300) == "2 h 55 min")
        #expect(Formatting.time(1_795_950_000) == "2026-11-29 11:00 UTC")
        #expect(Formatting.expiry(1_000_600, now: 1_000_000) == "valid until 1970-01-12 13:56 UTC (10 min left)")
        #expect(Formatting.expiry(1_000_000, now: 1_000_060).hasSuffix("(60 s ago)"))
    }

    @Test func errorsKeepTheirCauseAndFixApartEvenWhenTheServerSaysSemicolons() {
        let server = LoginServer(try! ServerAddress("myreg1.azurecr.io"))!
        let refused = ACRError.exchangeRefused(server, status: 401, message: "bad token; try again; or not")
        #expect(Explanation(refused).cause == "myreg1.azurecr.io: the registry refused the Azure AD token (HTTP 401: bad token; try again; or not)")
        #expect(Explanation(refused).fix?.hasPrefix("check that the identity has a role") == true)
        #expect(refused.description == Explanation(refused).cause + "; " + Explanation(refused).fix!)
        #expect(Explanation(CredentialHelperError.credentialsNotFound) == Explanation(cause: "credentials not found in native keychain"))
    }

    @Test func proxyPasswordsAreNotShown() {
        #expect(ProxyServer.redacting("http://user:pw@proxy:3128") == "http://…@proxy:3128")
        #expect(ProxyServer.redacting("http://proxy:3128/") == "http://proxy:3128/")
        #expect(!ProxyServer.redacting("user:pw@proxy:3128").contains("pw"))
    }
}
