/// The attributes of Docker's keyring items, remembered by item path in `lockDirectory/keyring-items`
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
///
/// The format is lines of tab-separated, percent-escaped fields rather than JSON: the `get` of an ACR
/// server reads it, and JSON decoding would page in about 1 MiB more of the binary.
struct KeyringItemIndex: Equatable {
    struct Entry: Equatable {
        var server: String
        var username: String
    }

    /// The keyring daemon instance: bus GUID and unique name.
    var daemon: String
    var items: [String: Entry]

    static let header = "docker-credential-acr keyring index 1"

    static func load(_ path: String, daemon: String) -> KeyringItemIndex {
        var index = KeyringItemIndex(daemon: daemon, items: [:])
        guard let bytes = try? PrivateFile.read(path) else { return index }
        // Split as bytes: per-character string splitting cost 30 million instructions for 1,000 lines.
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        guard let first = lines.first, Array(first) == Array((header + "\t" + escape(daemon)).utf8) else { return index }
        for line in lines.dropFirst() {
            let escaped = line.contains(UInt8(ascii: "%"))
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map { field in
                let text = String(decoding: field, as: UTF8.self)
                return escaped ? unescape(text) : text
            }
            guard fields.count == 3 else { return KeyringItemIndex(daemon: daemon, items: [:]) }
            index.items[fields[0]] = Entry(server: fields[1], username: fields[2])
        }
        return index
    }

    /// Best effort: the index is derived data, and a reader that cannot write it reads the items instead.
    func save(_ path: String) {
        var text = Self.header + "\t" + Self.escape(daemon) + "\n"
        for (path, entry) in items.sorted(by: { $0.key < $1.key }) {
            text += [path, entry.server, entry.username].map(Self.escape).joined(separator: "\t") + "\n"
        }
        try? PrivateFile.replace(path, with: Array(text.utf8), durable: false)
    }

    /// Fields rarely hold these characters, and the check is much cheaper than `replacing`.
    static func escape(_ field: String) -> String {
        guard field.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") })
        else { return field }
        return field.replacing("%", with: "%25").replacing("\t", with: "%09").replacing("\n", with: "%0A")
    }

    private static func unescape(_ field: String) -> String {
        field.replacing("%0A", with: "\n").replacing("%09", with: "\t").replacing("%25", with: "%")
    }
}
