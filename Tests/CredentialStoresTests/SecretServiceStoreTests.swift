import DockerCredentialProtocol
import Foundation
import Testing
@testable import CredentialStores

/// Runs against the real gnome-keyring that `Scripts/with-keyring.sh` starts; `make test` always does.
@Suite(.serialized) struct SecretServiceStoreTests {
    let store: SecretServiceStore

    init() throws {
        try #require(ProcessInfo.processInfo.environment["DBUS_SESSION_BUS_ADDRESS"] != nil,
                     "run the tests inside Scripts/with-keyring.sh (make test does)")
        store = try SecretServiceStore(
            lockDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("keyring-lock-\(UUID().uuidString)").path,
            environment: ProcessInfo.processInfo.environment)
    }

    @Test func roundTrip() async throws { try await StoreBehaviour.roundTripFindsEverySpelling(store) }
    @Test func cachedTokensKeepTheirProof() throws { try StoreBehaviour.cachedTokensKeepTheirProof(store) }
    @Test func replace() async throws { try await StoreBehaviour.savingAnotherSpellingReplacesTheEntry(store) }
    @Test func remove() async throws { try await StoreBehaviour.removeDropsEverySpellingAndSaysWhetherThereWasOne(store) }
    @Test func tokensAndPorts() async throws { try await StoreBehaviour.identityTokensAndPortsAreKeptApart(store) }

    /// Reads asked ahead, in one round trip, answer as the same reads asked one by one; a write of the
    /// store in between is seen.
    @Test func readsAskedAheadAnswerAsReadsAskedAlone() async throws {
        let server = try ServerAddress("ahead\(UUID().uuidString.prefix(8).lowercased()).azurecr.io")
        let registry = TokenKey(kind: .acrRefreshToken, scope: server.key, identity: "sp:t:ahead")
        let azureAD = TokenKey(kind: .azureADToken, scope: "AzureCloud ahead", identity: "sp:t:ahead")
        try store.saveToken(CachedToken(token: "eyJ.registry.ahead", expiresOn: 1_900_000_000), for: registry)
        store.readAhead(credentialFor: server, tokens: [registry, azureAD])
        #expect(try await store.credential(for: server) == nil)
        #expect(try store.cachedToken(for: registry)?.token == "eyJ.registry.ahead")
        #expect(try store.cachedToken(for: registry)?.token == "eyJ.registry.ahead", "asked again: asked of the daemon")
        store.readAhead(credentialFor: server, tokens: [registry, azureAD])
        try store.saveToken(CachedToken(token: "eyJ.azuread.ahead", expiresOn: 1_900_000_000), for: azureAD)
        #expect(try store.cachedToken(for: azureAD)?.token == "eyJ.azuread.ahead", "saved after the read ahead")
        try store.removeTokens(.identity("sp:t:ahead"))
    }

    @Test func autoPicksTheKeyringWhenOneAnswers() throws {
        #expect(try StoreChoice.auto.open(environment: ProcessInfo.processInfo.environment) is SecretServiceStore)
    }
}
