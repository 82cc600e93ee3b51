import DockerCredentialProtocol
import Testing
@testable import CredentialStores

/// What every store must do, checked against a real store instance.
enum StoreBehaviour {
    static func unique(_ host: String) -> String {
        "\(UInt32.random(in: 0...UInt32.max)).\(host)"
    }

    static func roundTripFindsEverySpelling(_ store: some CredentialStore) async throws {
        let host = unique("reg.example.com")
        defer { _ = try? store.remove(ServerAddress(host)) }
        let saved = Credential(serverURL: "https://\(host)", username: "alice", secret: "s3cr3t-ü-<&>")
        try store.save(saved, for: ServerAddress(saved.serverURL))
        for spelling in [host, "https://\(host.uppercased())/", "http://\(host)//", saved.serverURL] {
            #expect(try await store.credential(for: ServerAddress(spelling)) == saved)
        }
        #expect(try await store.credential(for: ServerAddress("\(host):5000")) == nil)
    }

    static func savingAnotherSpellingReplacesTheEntry(_ store: some CredentialStore) async throws {
        let host = unique("reg.example.com")
        defer { _ = try? store.remove(ServerAddress(host)) }
        try store.save(Credential(serverURL: "https://\(host)/", username: "old", secret: "one"),
                       for: ServerAddress("https://\(host)/"))
        let newer = Credential(serverURL: host, username: "new", secret: "two")
        try store.save(newer, for: ServerAddress(host))
        #expect(try await store.credential(for: ServerAddress("https://\(host)/")) == newer)
        let listed = try store.allUsernames().filter { $0.key.lowercased().contains(host) }
        #expect(listed == [host: "new"])
    }

    static func removeDropsEverySpellingAndSaysWhetherThereWasOne(_ store: some CredentialStore) async throws {
        let host = unique("reg.example.com")
        #expect(try store.remove(ServerAddress(host)) == false)
        try store.save(Credential(serverURL: host, username: "u", secret: "s"), for: ServerAddress(host))
        #expect(try store.remove(ServerAddress("HTTPS://\(host)/")) == true)
        #expect(try await store.credential(for: ServerAddress(host)) == nil)
        #expect(try store.remove(ServerAddress(host)) == false)
    }

    static func identityTokensAndPortsAreKeptApart(_ store: some CredentialStore) async throws {
        let host = unique("reg.example.com")
        defer {
            _ = try? store.remove(ServerAddress("\(host):5000"))
            _ = try? store.remove(ServerAddress("\(host):5001"))
        }
        let token = Credential(serverURL: "\(host):5000", username: Credential.identityTokenUsername, secret: "rt")
        let plain = Credential(serverURL: "\(host):5001", username: "bob", secret: "pw")
        try store.save(token, for: ServerAddress(token.serverURL))
        try store.save(plain, for: ServerAddress(plain.serverURL))
        #expect(try await store.credential(for: ServerAddress(token.serverURL)) == token)
        #expect(try await store.credential(for: ServerAddress(plain.serverURL)) == plain)
        let listed = try store.allUsernames()
        #expect(listed[token.serverURL] == "<token>")
        #expect(listed[plain.serverURL] == "bob")
    }

    /// A cached token keeps its expiry and the fingerprint of its proof (in the keyring, inside the
    /// item's secret); a token without one reads back without one.
    static func cachedTokensKeepTheirProof(_ store: some TokenCache) throws {
        let scope = unique("proof.azurecr.io")
        let with = TokenKey(kind: .acrRefreshToken, scope: scope, identity: "service-principal:t:c")
        let without = TokenKey(kind: .acrRefreshToken, scope: scope, identity: "managed-identity:default")
        try store.saveToken(CachedToken(token: "eyJ.a.b", expiresOn: 4_000_000_000, proof: "v1:00ff:abcd"), for: with)
        try store.saveToken(CachedToken(token: "eyJ.c.d", expiresOn: 4_000_000_001), for: without)
        #expect(try store.cachedToken(for: with) == CachedToken(token: "eyJ.a.b", expiresOn: 4_000_000_000, proof: "v1:00ff:abcd"))
        #expect(try store.cachedToken(for: without) == CachedToken(token: "eyJ.c.d", expiresOn: 4_000_000_001))
        try store.removeTokens(.scope(scope))
        #expect(try store.cachedToken(for: with) == nil)
    }
}
