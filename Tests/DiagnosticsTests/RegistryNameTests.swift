import Testing
@testable import Diagnostics

@Suite struct RegistryNameTests {
    @Test(arguments: [
        ("myregistry.azurecr.io", Check.Status.ok, "myregistry.azurecr.io", "is a login server"),
        ("https://myregistry.azurecr.io/", .ok, "myregistry.azurecr.io", "is a login server"),
        ("contoso.azurecr.cn", .ok, "contoso.azurecr.cn", "(AzureChinaCloud)"),
        ("MyRegistry", .error, "myregistry.azurecr.io", "a registry's name, not its login server"),
        ("MyRegistry.azurecr.io", .error, "myregistry.azurecr.io", "capital letters"),
        ("myregistry.westeurope.data.azurecr.io", .error, "myregistry.azurecr.io", "data endpoint"),
    ])
    func namesThatLeadToALoginServer(_ input: String, _ status: Check.Status, _ server: String, _ found: String) {
        let name = RegistryName(input)
        #expect(name.check.status == status)
        #expect(name.check.code == .loginServer)
        #expect(name.server?.name == server)
        #expect(name.check.found.contains(found))
        #expect((name.check.fix != nil) == (status != .ok))
    }

    @Test(arguments: [
        ("abc", "neither a login server nor a valid registry name"),
        ("my_registry", "neither a login server nor a valid registry name"),
        ("ab.azurecr.io", "ab is not a valid registry name"),
        ("my.registry.azurecr.io", "my is not a valid registry name"),
    ])
    func invalidNamesStopTheChecks(_ input: String, _ found: String) {
        let name = RegistryName(input)
        #expect(name.check.status == .error)
        #expect(name.server == nil)
        #expect(name.check.found.contains(found))
    }

    @Test func otherRegistriesAreOnlyAWarning() {
        let name = RegistryName("ghcr.io")
        #expect(name.check.status == .warning)
        #expect(name.server == nil)
        #expect(name.host == "ghcr.io")
    }
}

@Suite struct BearerChallengeTests {
    @Test func acrChallenge() throws {
        let challenge = try #require(BearerChallenge(#"Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io""#))
        #expect(challenge.isBearer)
        #expect(challenge.realm == "https://r.azurecr.io/oauth2/token")
        #expect(challenge.service == "r.azurecr.io")
    }

    @Test func quotedValuesKeepCommasAndEscapes() throws {
        let challenge = try #require(BearerChallenge(#"bearer realm="a,b", service = "x\"y", scope=repository:r:pull"#))
        #expect(challenge.isBearer)
        #expect(challenge.realm == "a,b")
        #expect(challenge.service == #"x"y"#)
        #expect(challenge.parameters["scope"] == "repository:r:pull")
    }

    @Test func basicIsNotBearer() throws {
        let challenge = try #require(BearerChallenge(#"Basic realm="registry""#))
        #expect(!challenge.isBearer)
        #expect(challenge.realm == "registry")
        #expect(BearerChallenge("") == nil)
    }
}
