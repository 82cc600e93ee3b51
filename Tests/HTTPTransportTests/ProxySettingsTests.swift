import Testing
@testable import HTTPTransport

@Suite struct ProxySettingsTests {
    func settings(_ environment: [String: String]) throws -> ProxySettings { try ProxySettings(environment: environment) }

    @Test func theSchemePicksTheVariableAndUpperCaseComesFirst() throws {
        let proxies = try settings(["HTTPS_PROXY": "http://upper:3128", "https_proxy": "http://lower:3128", "http_proxy": "plain:8080"])
        #expect(proxies.proxy(for: "https://login.microsoftonline.com/t/oauth2/v2.0/token")?.host == "upper")
        #expect(proxies.proxy(for: "http://example.com/")?.port == 8080, "host:port without a scheme is http://")
        #expect(try settings(["https_proxy": "http://lower:3128"]).proxy(for: "https://a.example/")?.host == "lower")
        #expect(try settings([:]).proxy(for: "https://a.example/") == nil)
    }

    @Test func noProxyFollowsGosRules() throws {
        let base = ["HTTPS_PROXY": "http://proxy:3128"]
        func direct(_ url: String, _ noProxy: String) throws -> Bool {
            try settings(base.merging(["NO_PROXY": noProxy]) { $1 }).proxy(for: url) == nil
        }
        #expect(try direct("https://myreg.azurecr.io/", "azurecr.io"), "a domain matches its subdomains")
        #expect(try direct("https://azurecr.io/", "azurecr.io"), "and itself")
        #expect(try !direct("https://azurecr.io/", ".azurecr.io"), "a leading dot: subdomains only")
        #expect(try direct("https://myreg.azurecr.io/", ".azurecr.io"))
        #expect(try direct("https://myreg.azurecr.io/", "*.azurecr.io"))
        #expect(try !direct("https://notazurecr.io/", "azurecr.io"), "whole labels only")
        #expect(try direct("https://anything.example/", "*"))
        #expect(try direct("https://10.1.2.3/", "10.0.0.0/8"))
        #expect(try !direct("https://11.1.2.3/", "10.0.0.0/8"))
        #expect(try direct("https://[fd00::5]/", "fd00::/8"))
        #expect(try direct("https://192.0.2.7/", "192.0.2.7"))
        #expect(try direct("https://reg.example:5000/", "reg.example:5000"))
        #expect(try !direct("https://reg.example/", "reg.example:5000"), "a port must match")
        #expect(try direct("https://reg.example/", " other.example , REG.example "), "a list, trimmed, any case")
    }

    @Test func loopbackLinkLocalAndIMDSAreNeverProxied() throws {
        let proxies = try settings(["HTTPS_PROXY": "http://proxy:3128", "HTTP_PROXY": "http://proxy:3128"])
        for url in ["http://169.254.169.254/metadata/identity/oauth2/token", "http://127.0.0.1:40342/metadata/identity/oauth2/token",
                    "https://localhost:8443/", "https://[::1]:443/", "http://169.254.130.1/msi/token", "https://[fe80::1]/"] {
            #expect(proxies.proxy(for: url) == nil, "\(url)")
        }
        #expect(proxies.proxy(for: "https://192.0.2.10:443/") != nil)
    }

    @Test func userInformationIsKeptForBasicAuthButNeverShown() throws {
        let proxy = try #require(try settings(["HTTPS_PROXY": "http://me%40corp:p%3Ass@proxy.corp:8080/"]).httpsProxy)
        #expect(proxy == ProxyServer(host: "proxy.corp", port: 8080, username: "me@corp", password: "p:ss"))
        #expect(proxy.description == "http://…@proxy.corp:8080")
        #expect(ProxyServer.redacting("http://me:secret@proxy:3128") == "http://…@proxy:3128")
    }

    @Test func unusableProxiesAreRefusedWithoutTheirPassword() {
        #expect(throws: ProxyError.unsupportedScheme(source: "HTTPS_PROXY", url: "socks5://…@proxy:1080")) {
            try settings(["HTTPS_PROXY": "socks5://u:secret@proxy:1080"])
        }
        #expect(throws: ProxyError.invalid(source: "HTTPS_PROXY", url: "http://proxy:99999")) { try settings(["HTTPS_PROXY": "http://proxy:99999"]) }
    }

    @Test func theConfigurationFileStandsInForAMissingEnvironment() throws {
        let proxies = try ProxySettings(environment: [:], configured: (https: "http://cfg:3128", http: nil, noProxy: ".internal"))
        #expect(proxies.proxy(for: "https://a.example/")?.host == "cfg")
        #expect(proxies.proxy(for: "https://reg.internal/") == nil)
        #expect(try ProxySettings(environment: ["HTTPS_PROXY": "http://env:3128"], configured: (https: "http://cfg:3128", http: nil, noProxy: nil))
            .proxy(for: "https://a.example/")?.host == "env")
    }
}
