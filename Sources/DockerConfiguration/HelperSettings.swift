/// `credsStore` and `credHelpers`, the two settings that send a registry to a credential helper, as
/// Docker reads them: of duplicate keys the last wins, as in Go's decoder.
struct HelperSettings {
    /// A setting of a type Docker cannot read (`credsStore: 5`); the file is refused, not repaired.
    struct TypeError: Error {
        let key: String
        let expected: String
    }

    let credsStore: JSONValue?
    /// The entries in file order; nil when the key is absent or null.
    let credHelpers: [JSONValue.Member]?

    init(_ document: JSONValue) throws(TypeError) {
        credsStore = document.member("credsStore")
        guard credsStore?.isStringOrNull ?? true else { throw TypeError(key: "credsStore", expected: "a string") }
        switch document.member("credHelpers") {
        case nil, .null?: credHelpers = nil
        case .object(let members)? where members.allSatisfy(\.value.isStringOrNull): credHelpers = members
        default: throw TypeError(key: "credHelpers", expected: "an object of strings")
        }
    }

    func helper(for registry: String) -> JSONValue? {
        credHelpers?.last { $0.key == registry }?.value
    }

    /// The registries of `credHelpers` in file order, each once.
    var registries: [String] {
        var seen: Set<String> = []
        return (credHelpers ?? []).map(\.key).filter { seen.insert($0).inserted }
    }

    /// Whether either setting sends anything to `helper`.
    func names(_ helper: JSONValue) -> Bool {
        credsStore == helper || registries.contains { self.helper(for: $0) == helper }
    }
}

extension JSONValue {
    var isStringOrNull: Bool {
        switch self {
        case .string, .null: true
        default: false
        }
    }

    /// What a value is, for messages.
    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool(let value): "\(value)"
        case .null: "null"
        }
    }

    /// The member `key` of an object as Go's decoder reads it: the last of that name.
    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// Sets `key` in an object: every member of that name, so that readers agree whichever duplicate
    /// they take, else a new last member.
    mutating func setMember(_ key: String, to value: JSONValue) {
        guard case .object(var members) = self else { return }
        if members.contains(where: { $0.key == key }) {
            for index in members.indices where members[index].key == key { members[index].value = value }
        } else {
            members.append(Member(key: key, value: value))
        }
        self = .object(members)
    }

    mutating func removeMember(_ key: String) {
        guard case .object(var members) = self else { return }
        members.removeAll { $0.key == key }
        self = .object(members)
    }

    /// Sets `registry` in every `credHelpers` object, or adds `credHelpers` with that one entry.
    mutating func setCredHelper(_ registry: String, to helper: JSONValue) {
        guard case .object(var members) = self, case .object? = member("credHelpers") else {
            setMember("credHelpers", to: .object([Member(key: registry, value: helper)]))
            return
        }
        for index in members.indices where members[index].key == "credHelpers" {
            members[index].value.setMember(registry, to: helper)
        }
        self = .object(members)
    }

    mutating func removeCredHelper(_ registry: String) {
        guard case .object(var members) = self else { return }
        for index in members.indices where members[index].key == "credHelpers" {
            members[index].value.removeMember(registry)
        }
        self = .object(members)
    }
}
