import AzureIdentity
import DockerCredentialProtocol
import Testing
@testable import ACRTokenExchange

@Suite struct LoginServerTests {
    private func server(_ text: String, mapped: [String: AzureCloud] = [:]) throws -> LoginServer? {
        LoginServer(try ServerAddress(text), known: RegistryHosts(mapped: mapped))
    }

    @Test(arguments: [
        ("myregistry.azurecr.io", "myregistry.azurecr.io", AzureCloud.azurePublic),
        ("https://MyRegistry.azurecr.io/", "myregistry.azurecr.io", .azurePublic),
        ("myregistry.azurecr.io:443", "myregistry.azurecr.io", .azurePublic),
        ("myregistry-e2hqfxbs.azurecr.io", "myregistry-e2hqfxbs.azurecr.io", .azurePublic),
        ("myregistry.westeurope.geo.azurecr.io", "myregistry.westeurope.geo.azurecr.io", .azurePublic),
        ("contoso.azurecr.cn", "contoso.azurecr.cn", .azureChina),
        ("contoso.azurecr.us", "contoso.azurecr.us", .azureUSGovernment),
        ("https://myregistry.azurecr.io/v2/", "myregistry.azurecr.io", .azurePublic),
    ])
    func loginServersAreRecognised(_ text: String, _ name: String, _ cloud: AzureCloud) throws {
        let found = try #require(try server(text))
        #expect(found.name == name)
        #expect(found.cloud == cloud)
    }

    @Test(arguments: [
        "evil.azurecr.io.attacker.example", "myreg-azurecr.io", "azurecr.io", ".azurecr.io", "abcd.azurecr.io",
        String(repeating: "a", count: 51) + ".azurecr.io", "my_registry.azurecr.io", "my.registry.azurecr.io",
        "myregistry.westeurope.data.azurecr.io", "myregistry.azurecr.io:5000", "myregistry.azurecr.io/team",
        "myregistry-.azurecr.io", "myregistry-a-b.azurecr.io", "docker.io", "ghcr.io", "myregistry.azurecr.io.",
        "xn--mregistry.azurecr.com",
    ])
    func otherHostsNeverGetAzureTokens(_ text: String) throws {
        #expect(try server(text) == nil)
    }

    @Test func userInfoIsRejectedBeforeMatching() {
        #expect(throws: ServerAddressError.userInfo) { try ServerAddress("https://me@myregistry.azurecr.io") }
    }

    @Test func hostsMappedInTheConfigurationAreLoginServers() throws {
        let mapped = ["127.0.0.1:5060": AzureCloud.azurePublic]
        #expect(try server("http://127.0.0.1:5060/", mapped: mapped)?.name == "127.0.0.1:5060")
        #expect(try server("127.0.0.1:5061", mapped: mapped) == nil)
    }

    /// A custom cloud's suffix (AKS's containerRegistryDNSSuffix) takes the same anchored rule as ACR's own.
    @Test func customSuffixesAreLoginServersOfTheirCloud() throws {
        let known = RegistryHosts(customSuffixes: [(".azurecr.my.cloud", .azureUSGovernment)])
        let found = try #require(LoginServer(try ServerAddress("Sovereign1.azurecr.my.cloud"), known: known))
        #expect(found.name == "sovereign1.azurecr.my.cloud")
        #expect(found.cloud == .azureUSGovernment)
        for other in ["evil.azurecr.my.cloud.attacker.example", "abcd.azurecr.my.cloud", "a.b.azurecr.my.cloud", "azurecr.my.cloud"] {
            #expect(LoginServer(try ServerAddress(other), known: known) == nil, "\(other)")
        }
        #expect(try server("sovereign1.azurecr.my.cloud") == nil, "unknown without the suffix")
        #expect(LoginServer(try ServerAddress("myregistry.azurecr.io"), known: known)?.cloud == .azurePublic)
    }
}

@Suite struct ExposedTokenTests {
    /// header.payload.signature with the payload's claims; the signature is not checked here.
    static func jwt(_ claims: String) -> String {
        "eyJhbGciOiJSUzI1NiJ9." + Base64URL.encode(Array(claims.utf8)) + ".c2ln"
    }

    static let acrToken = jwt(#"{"iss":"Azure Container Registry","grant_type":"refresh_token","exp":4102444800}"#)

    @Test func anACRRefreshTokenIsRecognised() {
        #expect(ExposedToken.isACRRefreshToken(Self.acrToken))
        #expect(!ExposedToken.isACRRefreshToken(Self.jwt(#"{"iss":"someone else","grant_type":"refresh_token"}"#)))
        #expect(!ExposedToken.isACRRefreshToken("plain-password"))
    }

    @Test func anACRTokenUnderAnotherUserIsStoredUnderTheTokenUser() {
        let (fixed, replaced) = ExposedToken.substitutingUser(
            Credential(serverURL: "myreg.azurecr.io", username: "alice", secret: Self.acrToken))
        #expect(replaced)
        #expect(fixed.username == "00000000-0000-0000-0000-000000000000")
        #expect(fixed.secret == Self.acrToken)
    }

    @Test func passwordsAndIdentityTokensAreLeftAlone() {
        for credential in [
            Credential(serverURL: "myreg.azurecr.io", username: "admin", secret: "password"),
            Credential(serverURL: "myreg.azurecr.io", username: "<token>", secret: Self.acrToken),
            Credential(serverURL: "myreg.azurecr.io", username: LoginServer.tokenUsername, secret: Self.acrToken),
        ] {
            #expect(ExposedToken.substitutingUser(credential) == (credential, false))
        }
    }

    @Test func importReadsAzCLIOutput() throws {
        let input = #"{"accessToken": "\#(Self.acrToken)", "loginServer": "MyReg1.azurecr.io"}"#
        let credential = try ExposedTokenImport.parse(Array(input.utf8))
        #expect(credential == Credential(serverURL: "myreg1.azurecr.io", username: LoginServer.tokenUsername, secret: Self.acrToken))
        #expect(throws: ImportError.self) {
            try ExposedTokenImport.parse(Array(#"{"accessToken":"x","loginServer":"myreg1.azurecr.io"}"#.utf8))
        }
        #expect(throws: ImportError.self) {
            try ExposedTokenImport.parse(Array(#"{"accessToken":"\#(Self.acrToken)","loginServer":"ghcr.io"}"#.utf8))
        }
    }
}
