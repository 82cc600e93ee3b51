import AzureIdentity
import Foundation
import Testing
@testable import ACRTokenExchange

@Suite struct ConfigurationTests {
    private func write(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("acr-config-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aMissingDefaultFileMeansDefaults() throws {
        let configuration = try ACRConfiguration.load(environment: ["XDG_CONFIG_HOME": "/nonexistent"])
        #expect(configuration.refreshMargin == 600)
        #expect(configuration.timeout == .seconds(20))
        #expect(configuration.registries.isEmpty)
    }

    @Test func theFileNamedByTheVariableMustExist() {
        #expect(throws: ConfigurationError.self) {
            try ACRConfiguration.load(environment: ["DOCKER_CREDENTIAL_ACR_CONFIG": "/nonexistent/config.json"])
        }
    }

    @Test func registriesPinTheirIdentity() throws {
        let path = try write(#"""
            {"refreshMarginSeconds": 120, "timeoutSeconds": 5, "registries": {
              "MyReg1.azurecr.io": {"identity": "workload-identity", "tenant": "t1", "clientId": "c1", "refreshMarginSeconds": 30},
              "127.0.0.1:5060": {"cloud": "AzureChinaCloud"}}}
            """#)
        let configuration = try ACRConfiguration.load(environment: ["DOCKER_CREDENTIAL_ACR_CONFIG": path])
        #expect(configuration.refreshMargin == 120)
        #expect(configuration.timeout == .seconds(5))
        #expect(configuration.registries["myreg1.azurecr.io"]?.identity
            == IdentitySettings(kind: .workloadIdentity, tenant: "t1", clientID: "c1"))
        #expect(configuration.registries["127.0.0.1:5060"]?.cloud == .azureChina)
        #expect(configuration.knownHosts.mapped.keys.contains("127.0.0.1:5060"))
    }

    @Test func customSuffixesComeFromTheEnvironment() throws {
        let configuration = try ACRConfiguration.load(environment: [
            "XDG_CONFIG_HOME": "/nonexistent", "DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES": "azurecr.my.cloud, .AzureCR.other.cloud=AzureChinaCloud",
        ])
        #expect(configuration.customSuffixes.map(\.0) == [".azurecr.my.cloud", ".azurecr.other.cloud"])
        #expect(configuration.customSuffixes.map(\.1) == [.azurePublic, .azureChina])
        #expect(configuration.knownHosts.suffix(of: "reg12.azurecr.other.cloud")?.1 == .azureChina)
        for bad in ["azurecr", ".azurecr..cloud", ".azurecr.my.cloud=Mars", "a/b.cloud"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try ACRConfiguration.load(environment: ["XDG_CONFIG_HOME": "/nonexistent", "DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES": bad])
            }
        }
    }

    @Test(arguments: [
        #"{"registries": {"myreg1.azurecr.io": {"identity": "password"}}}"#,
        #"{"registries": {"myreg1.azurecr.io": {"cloud": "Mars"}}}"#,
        #"{"refreshMarginSeconds": -1}"#, #"{"timeoutSeconds": 0}"#, "not json",
    ])
    func invalidFilesAreRefusedWithTheirPath(_ json: String) throws {
        let path = try write(json)
        do {
            _ = try ACRConfiguration.load(environment: ["DOCKER_CREDENTIAL_ACR_CONFIG": path])
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.contains(path))
        }
    }

    @Test func endpointsAcceptHTTPOnlyOnLoopback() throws {
        let configuration = try ACRConfiguration.load(environment: [
            "XDG_CONFIG_HOME": "/nonexistent",
            "DOCKER_CREDENTIAL_ACR_ENDPOINTS": "MyReg1.azurecr.io=http://127.0.0.1:8080/acr/myreg1.azurecr.io/,b.azurecr.io=https://proxy.example",
        ])
        #expect(configuration.endpoints["myreg1.azurecr.io"] == "http://127.0.0.1:8080/acr/myreg1.azurecr.io")
        #expect(configuration.endpoints["b.azurecr.io"] == "https://proxy.example")
        for bad in ["a.azurecr.io=http://10.0.0.1:80", "a.azurecr.io=http://127.evil.example", "a.azurecr.io"] {
            #expect(throws: ConfigurationError.self) {
                try ACRConfiguration.load(environment: ["XDG_CONFIG_HOME": "/nonexistent", "DOCKER_CREDENTIAL_ACR_ENDPOINTS": bad])
            }
        }
    }
}

@Suite struct IdentityResolverTests {
    private func source(_ environment: [String: String], _ settings: IdentitySettings = IdentitySettings()) throws -> (any IdentitySource)? {
        try IdentityResolver(environment: environment, cloud: .azurePublic, isAzureVM: false).candidates(settings)
            .first { $0.source != nil }?.source
    }

    @Test func theFirstConfiguredSourceWinsInTheDocumentedOrder() throws {
        let all = [
            "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s",
            "AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem", "AZURE_FEDERATED_TOKEN_FILE": "/token",
            "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token", "IDENTITY_HEADER": "h",
        ]
        #expect(try source(all)?.kind == .servicePrincipalSecret)
        #expect(try source(all.filter { $0.key != "AZURE_CLIENT_SECRET" })?.kind == .servicePrincipalCertificate)
        #expect(try source(all.filter { !["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"].contains($0.key) })?.kind
            == .workloadIdentity)
        #expect(try source(["IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi/token", "IDENTITY_HEADER": "h"])?.kind == .managedIdentity)
        #expect(try source(["PATH": "/nonexistent"]) == nil)
    }

    @Test func candidatesSayWhyEachEarlierSourceWasSkipped() throws {
        let resolver = IdentityResolver(
            environment: ["AZURE_CLIENT_ID": "c", "AZURE_FEDERATED_TOKEN_FILE": "/token", "AZURE_TENANT_ID": "t"],
            cloud: .azurePublic, isAzureVM: false)
        let candidates = Array(try resolver.candidates().prefix(3))
        #expect(candidates.map(\.kind) == [.servicePrincipalSecret, .servicePrincipalCertificate, .workloadIdentity])
        #expect(candidates.map(\.reason) == [
            "AZURE_CLIENT_SECRET is not set", "AZURE_CLIENT_CERTIFICATE_PATH is not set",
            "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE are set",
        ])
        #expect(candidates.last?.source?.kind == .workloadIdentity)
        let none = try IdentityResolver(environment: ["PATH": "/nonexistent"], cloud: .azurePublic, isAzureVM: false).candidates()
        #expect(none.allSatisfy { $0.source == nil } && none.count == IdentityKind.allCases.count)
        #expect(none.last?.reason == "`az` is not on PATH")
    }

    @Test func aSecretWithoutTenantIsNotConfigured() throws {
        #expect(try source(["AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s", "PATH": "/nonexistent"]) == nil)
    }

    @Test func theConfigurationPinsOneSource() throws {
        let environment = ["AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s",
                           "DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT": "http://127.0.0.1:1/metadata/identity/oauth2/token"]
        #expect(try source(environment, IdentitySettings(kind: .managedIdentity))?.kind == .managedIdentity)
        #expect(try source(environment, IdentitySettings(kind: .workloadIdentity)) == nil)
    }

    @Test func theAzureCLIIsThereOnlyWhenItsProfileNamesAnAccount() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("az-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: folder + "/az", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755]))
        let environment = ["PATH": folder, "AZURE_CONFIG_DIR": folder]
        func cli() throws -> IdentityCandidate { try IdentityResolver(environment: environment, cloud: .azurePublic, isAzureVM: false).candidate(.azureCLI, IdentitySettings()) }
        #expect(try cli().source == nil)
        #expect(try cli().reason.contains("not logged in"))
        // As `az` writes it: a byte order mark first, the default subscription's user and tenant.
        func profile(_ user: String, _ tenant: String) -> Data {
            Data([0xEF, 0xBB, 0xBF] + Array(#"{"subscriptions": [{"isDefault": false, "tenantId": "other", "user": {"name": "x", "type": "user"}}, {"isDefault": true, "tenantId": "\#(tenant)", "user": {"name": "\#(user)", "type": "user"}}]}"#.utf8))
        }
        #expect(FileManager.default.createFile(atPath: folder + "/azureProfile.json", contents: profile("alice@contoso.com", "t1")))
        let alice = try #require(try cli().source)
        #expect(alice.cacheIdentity == "azure-cli:user:alice@contoso.com:t1")
        #expect(FileManager.default.createFile(atPath: folder + "/azureProfile.json", contents: profile("alice@contoso.com", "t2")))
        #expect(try cli().source?.cacheIdentity != alice.cacheIdentity, "az account set to another tenant is another identity")
        #expect(FileManager.default.createFile(atPath: folder + "/azureProfile.json", contents: Data(#"{"subscriptions": []}"#.utf8)))
        #expect(try cli().source == nil, "logged out")
    }

    @Test func cacheIdentitiesTellIdentitiesApartWithoutSecrets() throws {
        let one = try #require(try source(["AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c1", "AZURE_CLIENT_SECRET": "s3cr3t"]))
        let two = try #require(try source(["AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c2", "AZURE_CLIENT_SECRET": "s3cr3t"]))
        #expect(one.cacheIdentity != two.cacheIdentity)
        #expect(!one.cacheIdentity.contains("s3cr3t"))
    }

    @Test func plainHTTPAuthoritiesOnlyOnLoopback() throws {
        let base = ["AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"]
        #expect(try source(base.merging(["AZURE_AUTHORITY_HOST": "http://127.0.0.1:9/"]) { $1 }) != nil)
        #expect(throws: AzureIdentityError.self) {
            try source(base.merging(["AZURE_AUTHORITY_HOST": "http://login.example.com/"]) { $1 })
        }
    }
}
