import Testing
@testable import Diagnostics

@Suite struct DockerConfigTests {
    private func routing(_ json: String, host: String = "r.azurecr.io") throws -> [Check] {
        let config = try DockerConfigFile(path: "/c/config.json", contents: Array(json.utf8))
        return DockerChecks(environment: [:], executable: "/x").routing(for: host, config: config, registry: host)
    }

    private func status(_ checks: [Check], _ code: CheckCode) -> Check.Status? {
        checks.first { $0.code == code }?.status
    }

    @Test func credHelpersWinsOverCredsStore() throws {
        let checks = try routing(#"{"credsStore": "desktop", "credHelpers": {"r.azurecr.io": "acr"}}"#)
        #expect(status(checks, .helperConfig) == .ok)
        #expect(status(checks, .helperShadowed) == .ok)
    }

    @Test func anotherHelperForTheRegistryShadowsThisOne() throws {
        let checks = try routing(#"{"credsStore": "acr", "credHelpers": {"https://r.azurecr.io": "ecr-login"}}"#)
        #expect(status(checks, .helperShadowed) == .error)
        #expect(checks.contains { $0.found.contains("docker-credential-ecr-login") })
    }

    @Test(arguments: [(#"{"credsStore": "desktop"}"#, "docker-credential-desktop"), (#"{"auths": {}}"#, "names no credential helper")])
    func dockerThatNeverAsksThisHelper(_ json: String, _ found: String) throws {
        let checks = try routing(json)
        #expect(status(checks, .helperConfig) == .error)
        #expect(checks.contains { $0.found.contains(found) && $0.fix?.contains(#""credsStore": "acr""#) == true })
    }

    @Test func plainTextCredentialsAreAnErrorWithoutHelperAndAWarningBesideOne() throws {
        let entry = #""auths": {"r.azurecr.io": {"auth": "dTpw"}}"#
        #expect(status(try routing("{\(entry)}").filter { $0.title.contains("config.json") }, .helperShadowed) == .error)
        #expect(status(try routing(#"{"credsStore": "acr", "#.dropLast(0) + "\(entry)}"), .helperShadowed) == .warning)
        #expect(status(try routing(#"{"credsStore": "acr", "auths": {"r.azurecr.io": {}}}"#), .helperShadowed) == .ok)
    }

    @Test func unparsableConfigIsRefused() {
        #expect(throws: DockerConfigError.self) { try DockerConfigFile(path: "/c", contents: Array(#"{"auths": ["#.utf8)) }
        #expect(throws: DockerConfigError.self) { try DockerConfigFile(path: "/c", contents: Array(#"{"credHelpers": 3}"#.utf8)) }
    }

    @Test(arguments: [
        ("Docker version 20.10.24+dfsg1, build 297e128", 20, 10),
        ("Docker version 17.09.1-ce, build 19e2cf6", 17, 9),
        ("Docker version 28.2.2, build e6534b4", 28, 2),
    ])
    func dockerVersions(_ text: String, _ major: Int, _ minor: Int) throws {
        let version = try #require(DockerChecks.version(in: text))
        #expect(version.major == major && version.minor == minor)
    }
}
