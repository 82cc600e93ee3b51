/// Where credentials are kept. Implementations match entries by `ServerAddress.key`, so that every
/// spelling of one registry finds the same entry, and keep the server URL as it was first written.
public protocol CredentialStore {
    /// The entry for `server`, or nil when there is none. Async because a store may derive credentials
    /// (ACR tokens) instead of only reading them.
    func credential(for server: ServerAddress) async throws -> Credential?
    /// Saves `credential` as the one entry for its registry, replacing any other spelling of it.
    func save(_ credential: Credential, for server: ServerAddress) throws
    /// Removes every entry for `server`; false when there was none.
    func remove(_ server: ServerAddress) throws -> Bool
    /// Server URL → username of every Docker credential in the store.
    func allUsernames() throws -> [String: String]
}
