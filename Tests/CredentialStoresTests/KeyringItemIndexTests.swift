import Foundation
import Testing
@testable import CredentialStores

@Suite struct KeyringItemIndexTests {
    let folder: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("index-\(UUID().uuidString)").path
        try PrivateFile.makeDirectory(folder)
    }

    @Test func roundTripKeepsAwkwardFieldsWhole() {
        let index = KeyringItemIndex(daemon: "guid :1.42", items: [
            "/org/freedesktop/secrets/collection/login/1": .init(server: "https://r.example/v2/", username: "a\tb\nc%09d"),
            "/org/freedesktop/secrets/collection/login/7": .init(server: "reg.example.com:5000", username: "100%"),
        ])
        index.save(folder + "/keyring-items")
        #expect(KeyringItemIndex.load(folder + "/keyring-items", daemon: "guid :1.42") == index)
    }

    @Test func anotherDaemonsIndexIsEmpty() {
        KeyringItemIndex(daemon: "guid :1.42", items: ["/p": .init(server: "s", username: "u")]).save(folder + "/keyring-items")
        #expect(KeyringItemIndex.load(folder + "/keyring-items", daemon: "guid :1.43").items.isEmpty)
    }

    @Test(arguments: ["", "not an index", "docker-credential-acr keyring index 1\tguid :1.42\n/p\tonly-two-fields\n"])
    func anythingElseIsEmpty(_ contents: String) throws {
        try PrivateFile.replace(folder + "/keyring-items", with: Array(contents.utf8))
        #expect(KeyringItemIndex.load(folder + "/keyring-items", daemon: "guid :1.42").items.isEmpty)
    }
}
