import FoundationEssentials

/// The attributes of Docker's keyring items, remembered by item path in `lockDirectory/keyring-items.json`
/// (0600; server URLs and user names, no secrets).
///
/// The Secret Service has no call that returns the attributes of many items: each costs a D-Bus round
/// trip, about 0.6 ms with gnome-keyring, so `list` of 1,000 entries took 640 ms and every `get` of an
/// ACR server that has no stored credential paid one per stored item to rule out other spellings. With
/// the index, one search returns the paths and only paths not seen before are read.
///
/// An entry is valid only for the keyring daemon instance that made it (the bus's GUID and the daemon's
/// unique bus name): gnome-keyring never reuses an item path while it runs, but numbers them afresh
/// when it starts again. Docker's items never change their attributes; they are deleted and stored anew.
struct KeyringItemIndex: Codable {
    struct Entry: Codable, Equatable {
        var server: String
        var username: String
    }

    var version = 1
    /// The keyring daemon instance: bus GUID and unique name.
    var daemon: String
    var items: [String: Entry]

    static func load(_ path: String, daemon: String) -> KeyringItemIndex {
        guard let bytes = try? PrivateFile.read(path),
              let index = try? JSONDecoder().decode(KeyringItemIndex.self, from: Data(bytes)),
              index.version == 1, index.daemon == daemon
        else { return KeyringItemIndex(daemon: daemon, items: [:]) }
        return index
    }

    /// Best effort: the index is derived data, and a reader that cannot write it reads the items instead.
    func save(_ path: String) {
        guard let bytes = try? JSONEncoder().encode(self) else { return }
        try? PrivateFile.replace(path, with: Array(bytes), durable: false)
    }
}
