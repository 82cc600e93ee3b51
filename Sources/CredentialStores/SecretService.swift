/// The calls of the freedesktop Secret Service API that the keyring store makes, each one D-Bus round trip.
///
/// Secrets travel in a `plain` session: the session bus is a local socket between the user's own
/// processes, and the daemon that keeps the secrets trusts every process of the user anyway. An encrypted
/// session (Diffie-Hellman, then AES) would add a key exchange to every `get` and protect nothing more.
final class SecretService {
    private static let name = "org.freedesktop.secrets"
    private static let servicePath = "/org/freedesktop/secrets"
    private static let prefix = "org.freedesktop.Secret."
    /// The default collection at the path the specification gives it (gnome-keyring answers there).
    static let defaultCollectionAlias = "/org/freedesktop/secrets/aliases/default"

    private let bus: SessionBus
    /// Opened by the first call that carries a secret: a `get` that finds nothing needs none.
    private var openedSession: String?
    /// This run of the daemon: the bus's GUID and the daemon's unique name.
    let daemon: String

    /// Connects and asks for a property of the service: failing here means none answers (the bus starts
    /// one if it knows how).
    init(environment: [String: String]) throws(BusFailure) {
        bus = try SessionBus(environment: environment)
        // gnome-keyring (42 to 50 at least) registers a caller in an idle callback that a method call can
        // overtake; OpenSession from a caller not yet registered aborts the daemon, and every other call
        // fails. Its first call must need no registration: a property of the service, as libsecret reads.
        let reply = try bus.call(Self.propertyCall("Collections", of: Self.servicePath, interface: "Service"))
        daemon = bus.guid + " " + reply.sender
    }

    /// Opens the session ahead of the call that needs it (best effort: that call tries again).
    func openSession() {
        _ = try? session()
    }

    private func session() throws(BusFailure) -> String {
        if let openedSession { return openedSession }
        return try opened(bus.call(Self.serviceCall("OpenSession", Self.plainSession)))
    }

    private static func plainSession(_ message: BusMessage) throws(BusFailure) {
        try message.append("s", "plain")
        try message.append("v", "s") { () throws(BusFailure) in try message.append("s", "") }
    }

    private func opened(_ reply: BusMessage) throws(BusFailure) -> String {
        _ = try reply.inside("v", "s") { () throws(BusFailure) in _ = try reply.string() }
        let session = try reply.string("o")
        openedSession = session
        return session
    }

    /// Every item whose attributes include `attributes`, unlocked and locked (their attributes may be
    /// encrypted, so a locked collection's items may be missing from both).
    func search(_ attributes: [String: String]) throws(BusFailure) -> (unlocked: [String], locked: [String]) {
        try Self.found(bus.call(Self.searchCall(attributes)))
    }

    private static func searchCall(_ attributes: [String: String]) -> SessionBus.Call {
        serviceCall("SearchItems") { message throws(BusFailure) in try message.append(attributes) }
    }

    private static func found(_ reply: BusMessage) throws(BusFailure) -> (unlocked: [String], locked: [String]) {
        (try reply.strings(), try reply.strings())
    }

    /// `searches`, whether the default collection is locked (at its alias) and a session, asked at once:
    /// one round trip for what a `get` of an ACR server reads first.
    func searchAhead(_ searches: [[String: String]]) -> (found: [Result<(unlocked: [String], locked: [String]), BusFailure>], locked: Bool?) {
        var calls = searches.map(Self.searchCall)
        calls.append(Self.propertyCall("Locked", of: Self.defaultCollectionAlias, interface: "Collection"))
        if openedSession == nil { calls.append(Self.serviceCall("OpenSession", Self.plainSession)) }
        let replies = bus.calls(calls)
        let found = replies.prefix(searches.count).map { reply in Result { () throws(BusFailure) in try Self.found(reply.get()) } }
        let locked = try? Self.locked(replies[searches.count].get())
        if replies.count > searches.count + 1 { _ = try? opened(replies[searches.count + 1].get()) }
        return (found, locked)
    }

    /// The secrets of the unlocked items among `paths`, by path.
    func secrets(_ paths: [String]) throws(BusFailure) -> [String: [UInt8]] {
        let session = try session()
        let reply = try callService("GetSecrets") { message throws(BusFailure) in
            try message.append("a", "o") { () throws(BusFailure) in for path in paths { try message.append("o", path) } }
            try message.append("o", session)
        }
        var secrets: [String: [UInt8]] = [:]
        _ = try reply.inside("a", "{o(oayays)}") { () throws(BusFailure) in
            while try reply.inside("e", "o(oayays)", { () throws(BusFailure) in
                let path = try reply.string("o")
                _ = try reply.inside("r", "oayays") { () throws(BusFailure) in
                    _ = try reply.string("o")
                    _ = try reply.bytes()
                    secrets[path] = try reply.bytes()
                    _ = try reply.string()
                }
            }) {}
        }
        return secrets
    }

    func attributes(of item: String) throws(BusFailure) -> [String: String] {
        let reply = try property("Attributes", of: item, interface: "Item")
        var attributes: [String: String] = [:]
        _ = try reply.inside("v", "a{ss}") { () throws(BusFailure) in attributes = try reply.dictionary() }
        return attributes
    }

    /// The path of the collection the `default` alias names; nil when there is none.
    func defaultCollection() throws(BusFailure) -> String? {
        let path = try callService("ReadAlias") { message throws(BusFailure) in try message.append("s", "default") }.string("o")
        return path == "/" ? nil : path
    }

    func isLocked(_ collection: String) throws(BusFailure) -> Bool {
        try Self.locked(property("Locked", of: collection, interface: "Collection"))
    }

    private static func locked(_ reply: BusMessage) throws(BusFailure) -> Bool {
        var locked = true
        _ = try reply.inside("v", "b") { () throws(BusFailure) in locked = try reply.bool() }
        return locked
    }

    /// Stores a text secret in `collection`, replacing an item with exactly these attributes.
    func createItem(in collection: String, label: String, attributes: [String: String], secret: String) throws(BusFailure) {
        let session = try session()
        let reply = try bus.call(Self.name, collection, Self.prefix + "Collection", "CreateItem") { message throws(BusFailure) in
            try message.append("a", "{sv}") { () throws(BusFailure) in
                try message.append("e", "sv") { () throws(BusFailure) in
                    try message.append("s", Self.prefix + "Item.Label")
                    try message.append("v", "s") { () throws(BusFailure) in try message.append("s", label) }
                }
                try message.append("e", "sv") { () throws(BusFailure) in
                    try message.append("s", Self.prefix + "Item.Attributes")
                    try message.append("v", "a{ss}") { () throws(BusFailure) in try message.append(attributes) }
                }
            }
            try message.append("r", "oayays") { () throws(BusFailure) in
                try message.append("o", session)
                try message.append([])
                try message.append(Array(secret.utf8))
                try message.append("s", "text/plain")
            }
            try message.append(true)
        }
        _ = try reply.string("o")
        try Self.refusePrompt(try reply.string("o"))
    }

    func delete(_ item: String) throws(BusFailure) {
        try Self.refusePrompt(try bus.call(Self.name, item, Self.prefix + "Item", "Delete").string("o"))
    }

    /// A prompt is a window on a desktop: none can be shown to a credential helper's caller.
    private static func refusePrompt(_ prompt: String) throws(BusFailure) {
        guard prompt == "/" else {
            throw BusFailure(name: prefix + "Prompt", message: "the Secret Service asks for a confirmation that only a desktop prompt can give")
        }
    }

    private func callService(_ member: String, _ arguments: @escaping (BusMessage) throws(BusFailure) -> Void) throws(BusFailure) -> BusMessage {
        try bus.call(Self.serviceCall(member, arguments))
    }

    private static func serviceCall(_ member: String, _ arguments: @escaping (BusMessage) throws(BusFailure) -> Void) -> SessionBus.Call {
        SessionBus.Call(destination: name, path: servicePath, interface: prefix + "Service", member: member, arguments: arguments)
    }

    private func property(_ property: String, of path: String, interface: String) throws(BusFailure) -> BusMessage {
        try bus.call(Self.propertyCall(property, of: path, interface: interface))
    }

    private static func propertyCall(_ property: String, of path: String, interface: String) -> SessionBus.Call {
        SessionBus.Call(destination: name, path: path, interface: "org.freedesktop.DBus.Properties", member: "Get") { message throws(BusFailure) in
            try message.append("s", prefix + interface)
            try message.append("s", property)
        }
    }
}
