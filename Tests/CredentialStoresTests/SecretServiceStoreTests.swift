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

    @Test func autoPicksTheKeyringWhenOneAnswers() throws {
        #expect(try StoreChoice.auto.open(environment: ProcessInfo.processInfo.environment) is SecretServiceStore)
    }
}
