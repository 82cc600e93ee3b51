import DockerCredentialProtocol
import Foundation
import FuzzSupport

/// Docker's input to `store`, `get` and `erase`, as arbitrary bytes. Properties: no action crashes; an
/// error is one line; what `store` accepts, `get` gives back exactly and `list` shows as valid JSON
/// (the Go-compatible encoder must escape anything a string can hold); `erase` removes it.
func fuzzOne(_ bytes: [UInt8]) {
    let store = MemoryStore()
    let helper = CredentialHelper { store }
    do { try helper.erase(input: bytes) } catch { requireOneLine(error) }
    if case .failure(let error) = FuzzInput.wait({ await outcome { try await helper.get(input: bytes) } }) {
        requireOneLine(error)
    }
    do {
        try helper.store(input: bytes)
    } catch {
        requireOneLine(error)
        return
    }
    guard let (server, stored) = store.entries.first, store.entries.count == 1 else {
        return require(false, "store succeeded but the store holds \(store.entries.count) entries")
    }
    let listed = try? JSONSerialization.jsonObject(with: Data(try! helper.list().utf8)) as? [String: String]
    require(listed == [stored.serverURL: stored.username], "list is not the stored entry as JSON: \(String(describing: listed))")
    let answer = FuzzInput.wait({ await outcome { try await helper.get(input: Array(stored.serverURL.utf8)) } })
    guard case .success(let json) = answer,
          let fields = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
    else { return require(false, "get of the stored server failed or is not JSON: \(answer)") }
    require(fields == ["ServerURL": stored.serverURL, "Username": stored.username, "Secret": stored.secret],
            "get does not give back what store kept (key \(server))")
    try! helper.erase(input: Array(stored.serverURL.utf8))
    require(store.entries.isEmpty, "erase left the entry")
}

func requireOneLine(_ error: any Error) {
    let text = "\(error)"
    require(!text.isEmpty && !text.contains("\n"), "an error that is not one line: \(text.debugDescription)")
}

/// The simplest store that keeps entries by `ServerAddress.key`, as the real stores do.
final class MemoryStore: CredentialStore, @unchecked Sendable {
    var entries: [String: Credential] = [:]

    func credential(for server: ServerAddress) async throws -> Credential? { entries[server.key] }
    func save(_ credential: Credential, for server: ServerAddress) throws { entries[server.key] = credential }
    func remove(_ server: ServerAddress) throws -> Bool { entries.removeValue(forKey: server.key) != nil }
    func allUsernames() throws -> [String: String] {
        Dictionary(entries.values.map { ($0.serverURL, $0.username) }, uniquingKeysWith: { first, _ in first })
    }
}

func outcome(_ body: () async throws -> String) async -> Result<String, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

@main
enum Fuzz {
    static func main() {
        FuzzInput.main { data, size in
            fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        }
    }
}
