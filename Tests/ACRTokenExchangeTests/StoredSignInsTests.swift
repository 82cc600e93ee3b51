import AzureIdentity
import CredentialStores
import Foundation
import Testing
@testable import ACRTokenExchange

@Suite struct StoredSignInsTests {
    let store = FileStore(directory: FileManager.default.temporaryDirectory.appendingPathComponent("signins-\(UUID().uuidString)").path)
    var signIns: StoredSignIns { StoredSignIns(cache: store, now: { 1_000 }) }
    let authority = "https://login.microsoftonline.com/"

    func alice(_ refreshToken: String = "rt-1") -> SignIn {
        SignIn(refreshToken: refreshToken, tenant: "t1", clientID: DeviceCodeFlow.azureCLIClientID, objectID: "oid-alice",
               username: "alice@contoso.com", authorityHost: authority)
    }

    @Test func aSignInIsKeptPerAuthorityAndReplacedByTheNext() throws {
        #expect(try signIns.signIn(authorityHost: authority) == nil)
        try signIns.save(alice())
        try signIns.save(alice("rt-2"))
        #expect(try signIns.signIn(authorityHost: authority) == alice("rt-2"))
        #expect(try signIns.signIn(authorityHost: "https://login.chinacloudapi.cn/") == nil)
        #expect(try store.allUsernames().isEmpty, "list never shows a sign-in")
    }

    @Test func removingForgetsTheTokensDerivedFromItAndNoOthers() throws {
        try signIns.save(alice())
        let mine = SignedInUserSource(signIn: alice()).cacheIdentity
        try store.saveToken(CachedToken(token: "acr", expiresOn: 5_000), for: TokenKey(kind: .acrRefreshToken, scope: "r.azurecr.io", identity: mine))
        try store.saveToken(CachedToken(token: "aad", expiresOn: 5_000), for: TokenKey(kind: .azureADToken, scope: "AzureCloud x", identity: mine))
        let other = TokenKey(kind: .acrRefreshToken, scope: "r.azurecr.io", identity: "service-principal:t1:c1")
        try store.saveToken(CachedToken(token: "sp", expiresOn: 5_000), for: other)

        #expect(try signIns.remove(authorityHost: authority)?.username == "alice@contoso.com")
        #expect(try signIns.signIn(authorityHost: authority) == nil)
        #expect(try store.allCachedTokens().map(\.key) == [other])
        #expect(try signIns.remove(authorityHost: authority) == nil)
    }

    @Test func theSignInComesAfterTheEnvironmentAndBeforeTheAzureCLI() throws {
        try signIns.save(alice())
        let az = FileManager.default.temporaryDirectory.appendingPathComponent("az-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: az, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: az + "/az", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755]))
        #expect(FileManager.default.createFile(
            atPath: az + "/azureProfile.json",
            contents: Data(#"{"subscriptions": [{"isDefault": true, "tenantId": "t", "user": {"name": "u", "type": "user"}}]}"#.utf8)))
        func used(_ environment: [String: String]) throws -> IdentityKind? {
            try IdentityResolver(environment: environment, cloud: .azurePublic, isAzureVM: false, signIns: signIns).candidates()
                .first { $0.source != nil }?.kind
        }
        #expect(try used(["PATH": az, "AZURE_CONFIG_DIR": az]) == .signedInUser)
        #expect(try used(["PATH": az, "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"]) == .servicePrincipalSecret)
        #expect(try used(["PATH": az, "DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT": "http://127.0.0.1:9/token"]) == .managedIdentity)
        _ = try signIns.remove(authorityHost: authority)
        #expect(try used(["PATH": az, "AZURE_CONFIG_DIR": az]) == .azureCLI)
    }

    @Test func aPinnedSignInThatIsMissingSaysHowToMakeOne() throws {
        let candidates = try IdentityResolver(environment: [:], cloud: .azurePublic, isAzureVM: false, signIns: signIns)
            .candidates(IdentitySettings(kind: .signedInUser))
        #expect(candidates.map(\.reason) == ["no sign-in (`docker-credential-acr login` makes one)"])
        #expect(candidates.first?.source == nil)
    }

    @Test func theRecordSurvivesItsEncoding() {
        #expect(SignIn(encoded: alice().encoded) == alice())
        #expect(SignIn(encoded: "1234 not json") == nil)
    }
}
