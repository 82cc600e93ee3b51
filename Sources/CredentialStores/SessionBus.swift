import CLibSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Why a connection or a call on the bus failed: the D-Bus error's name (`System.Error.E…` for an errno of
/// the connection) and its message.
public struct BusFailure: Error, Sendable, Equatable {
    public let name: String
    public let message: String

    /// D-Bus's answer for an object path that does not exist (any more): gnome-keyring unexports a deleted
    /// item, so calls on its path fail as an unknown object, interface or method.
    var isNoSuchObject: Bool {
        ["UnknownObject", "UnknownInterface", "UnknownMethod"].map { "org.freedesktop.DBus.Error." + $0 }.contains(name)
            || name == "org.freedesktop.Secret.Error.NoSuchObject"
    }
}

/// The user's session bus through sd-bus (libsystemd, on every systemd machine): one connection and
/// blocking method calls. A process that connects, authenticates and makes its few calls touches a small
/// part of what GLib's GDBus sets up (worker thread, proxies, type system). sd-bus objects are not
/// thread-safe, so calls take turns.
final class SessionBus: @unchecked Sendable {
    fileprivate let bus: OpaquePointer
    fileprivate let turn = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// Connects where `sd_bus_open_user` would, but from `environment`: `DBUS_SESSION_BUS_ADDRESS`, else
    /// `$XDG_RUNTIME_DIR/bus` (what GDBus does too, short of trying to start a bus for an X11 display).
    init(environment: [String: String]) throws(BusFailure) {
        let address: String
        if let given = environment["DBUS_SESSION_BUS_ADDRESS"], !given.isEmpty {
            address = given
        } else if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            address = "unix:path=" + Self.escape(runtime + "/bus")
        } else {
            throw BusFailure(name: "System.Error", message: "no session bus: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set")
        }
        var bus: OpaquePointer?
        var result = sd_bus_new(&bus)
        if result >= 0 { result = sd_bus_set_address(bus, address) }
        if result >= 0 { result = sd_bus_set_bus_client(bus, 1) }
        if result >= 0 { result = sd_bus_start(bus) }
        guard result >= 0, let bus else {
            sd_bus_unref(bus)
            throw BusFailure(name: "System.Error", message: "cannot connect to the session bus at \(address): \(String(cString: strerror(-result)))")
        }
        self.bus = bus
        pthread_mutex_init(turn, nil)
    }

    /// A path in a D-Bus address: bytes outside `[-_/.\\0-9A-Za-z]` as `%XX`.
    private static func escape(_ path: String) -> String {
        var escaped = ""
        for byte in path.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80, character.isLetter || character.isNumber || "-_/.\\".contains(character) {
                escaped.append(character)
            } else {
                escaped += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return escaped
    }

    deinit {
        sd_bus_flush_close_unref(bus)
        pthread_mutex_destroy(turn)
        turn.deallocate()
    }

    /// The bus's GUID: with the unique name of a service, it tells one run of that service from the next.
    var guid: String {
        var id = sd_id128_t()
        guard sd_bus_get_bus_id(bus, &id) >= 0 else { return "" }
        return withUnsafeBytes(of: id.bytes) { $0.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
    }

    /// Calls `member` and returns the reply, whose `sender` is the unique name of the service's process.
    func call(
        _ destination: String, _ path: String, _ interface: String, _ member: String,
        arguments: (BusMessage) throws(BusFailure) -> Void = { _ throws(BusFailure) in }
    ) throws(BusFailure) -> BusMessage {
        pthread_mutex_lock(turn)
        defer { pthread_mutex_unlock(turn) }
        var message: OpaquePointer?
        try check(sd_bus_message_new_method_call(bus, &message, destination, path, interface, member))
        let request = BusMessage(message!)
        try arguments(request)
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        // 0: sd-bus's default timeout (25 s), the one libsecret and the D-Bus reference library use.
        let result = sd_bus_call(bus, request.message, 0, &error, &reply)
        guard result >= 0, let reply else {
            if sd_bus_error_is_set(&error) != 0 {
                throw BusFailure(
                    name: error.name.map { String(cString: $0) } ?? "", message: error.message.map { String(cString: $0) } ?? "")
            }
            try check(result)
            throw BusFailure(name: "System.Error", message: "no reply")
        }
        return BusMessage(reply)
    }
}

extension SessionBus {
    /// A method call to make.
    struct Call {
        let destination: String
        let path: String
        let interface: String
        let member: String
        var arguments: (BusMessage) throws(BusFailure) -> Void
    }

    func call(_ call: Call) throws(BusFailure) -> BusMessage {
        try self.call(call.destination, call.path, call.interface, call.member, arguments: call.arguments)
    }

    /// Makes `calls` at once and returns their replies in the same order: one round trip for calls that do
    /// not need each other's answers (a connection's calls are delivered, and answered, in order).
    func calls(_ calls: [Call]) -> [Result<BusMessage, BusFailure>] {
        pthread_mutex_lock(turn)
        defer { pthread_mutex_unlock(turn) }
        var replies = [Result<BusMessage, BusFailure>?](repeating: nil, count: calls.count)
        var cookies = [UInt64](repeating: 0, count: calls.count)
        for (index, call) in calls.enumerated() {
            do throws(BusFailure) {
                var message: OpaquePointer?
                try check(sd_bus_message_new_method_call(bus, &message, call.destination, call.path, call.interface, call.member))
                let request = BusMessage(message!)
                try call.arguments(request)
                try check(sd_bus_send(bus, request.message, &cookies[index]))
            } catch {
                replies[index] = .failure(error)
            }
        }
        // sd-bus's default timeout (25 s), as for one call.
        let deadline = ContinuousClock.now + .seconds(25)
        while let waiting = replies.firstIndex(where: { $0 == nil }) {
            var incoming: OpaquePointer?
            let processed = sd_bus_process(bus, &incoming)
            if let incoming {
                let reply = BusMessage(incoming)
                var cookie: UInt64 = 0
                if sd_bus_message_get_reply_cookie(incoming, &cookie) >= 0, let index = cookies.firstIndex(of: cookie), replies[index] == nil {
                    replies[index] = reply.failure.map { .failure($0) } ?? .success(reply)
                }
                continue
            }
            let left = deadline - .now
            var result = processed
            if processed == 0 {
                result = left > .zero ? sd_bus_wait(bus, UInt64(left.components.seconds) * 1_000_000 + UInt64(left.components.attoseconds / 1_000_000_000_000)) : -ETIMEDOUT
            }
            if result < 0 {
                let failure = BusFailure(name: "System.Error", message: String(cString: strerror(-result)))
                for index in waiting..<replies.count where replies[index] == nil { replies[index] = .failure(failure) }
            }
        }
        return replies.map { $0! }
    }
}

/// Turns sd-bus's negative errno results into a `BusFailure`.
@discardableResult
func check(_ result: Int32) throws(BusFailure) -> Int32 {
    guard result < 0 else { return result }
    throw BusFailure(name: "System.Error", message: String(cString: strerror(-result)))
}

/// A D-Bus message being written (a call's arguments) or read (a reply), in order, through sd-bus's
/// typed calls. Type codes are D-Bus's: `s` string, `o` object path, `b` boolean, `a` array, `e` dictionary
/// entry, `r` structure, `v` variant, `y` byte.
final class BusMessage {
    fileprivate let message: OpaquePointer

    fileprivate init(_ message: OpaquePointer) { self.message = message }

    deinit { sd_bus_message_unref(message) }

    var sender: String { sd_bus_message_get_sender(message).map { String(cString: $0) } ?? "" }

    /// The error a reply carries, if it is one.
    var failure: BusFailure? {
        guard let error = sd_bus_message_get_error(message), sd_bus_error_is_set(error) != 0 else { return nil }
        return BusFailure(name: error.pointee.name.map { String(cString: $0) } ?? "", message: error.pointee.message.map { String(cString: $0) } ?? "")
    }

    func append(_ type: Character, _ value: String) throws(BusFailure) {
        try check(value.withCString { sd_bus_message_append_basic(message, code(type), $0) })
    }

    func append(_ value: Bool) throws(BusFailure) {
        var flag: Int32 = value ? 1 : 0
        try check(sd_bus_message_append_basic(message, code("b"), &flag))
    }

    func append(_ bytes: [UInt8]) throws(BusFailure) {
        try check(bytes.withUnsafeBytes { sd_bus_message_append_array(message, code("y"), $0.baseAddress, $0.count) })
    }

    /// Writes `body` inside a container (`a`, `e`, `r`, `v`) holding `contents`.
    func append(_ type: Character, _ contents: String, _ body: () throws(BusFailure) -> Void) throws(BusFailure) {
        try check(sd_bus_message_open_container(message, code(type), contents))
        try body()
        try check(sd_bus_message_close_container(message))
    }

    /// `a{ss}`, the shape of every attribute set.
    func append(_ dictionary: [String: String]) throws(BusFailure) {
        try append("a", "{ss}") { () throws(BusFailure) in
            for (key, value) in dictionary.sorted(by: { $0.key < $1.key }) {
                try append("e", "ss") { () throws(BusFailure) in
                    try append("s", key)
                    try append("s", value)
                }
            }
        }
    }

    /// The next string or object path.
    func string(_ type: Character = "s") throws(BusFailure) -> String {
        var value: UnsafePointer<CChar>?
        guard try check(sd_bus_message_read_basic(message, code(type), &value)) > 0, let value else { throw Self.malformed }
        return String(cString: value)
    }

    func bool() throws(BusFailure) -> Bool {
        var value: Int32 = 0
        guard try check(sd_bus_message_read_basic(message, code("b"), &value)) > 0 else { throw Self.malformed }
        return value != 0
    }

    func bytes() throws(BusFailure) -> [UInt8] {
        var pointer: UnsafeRawPointer?
        var size = 0
        try check(sd_bus_message_read_array(message, code("y"), &pointer, &size))
        guard let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: size))
    }

    /// `as` or `ao`.
    func strings() throws(BusFailure) -> [String] {
        var list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        try check(sd_bus_message_read_strv(message, &list))
        guard let list else { return [] }
        defer { free(list) }
        var strings: [String] = []
        var entry = list
        while let string = entry.pointee {
            strings.append(String(cString: string))
            free(string)
            entry += 1
        }
        return strings
    }

    /// Reads inside the next container; false (nothing read) at the end of the enclosing array.
    func inside(_ type: Character, _ contents: String, _ body: () throws(BusFailure) -> Void) throws(BusFailure) -> Bool {
        guard try check(sd_bus_message_enter_container(message, code(type), contents)) > 0 else { return false }
        try body()
        try check(sd_bus_message_exit_container(message))
        return true
    }

    /// `a{ss}`.
    func dictionary() throws(BusFailure) -> [String: String] {
        var dictionary: [String: String] = [:]
        _ = try inside("a", "{ss}") { () throws(BusFailure) in
            while try inside("e", "ss", { () throws(BusFailure) in
                let key = try string()
                dictionary[key] = try string()
            }) {}
        }
        return dictionary
    }

    private static let malformed = BusFailure(name: "org.freedesktop.DBus.Error.InvalidArgs", message: "a reply of an unexpected shape")

    private func code(_ type: Character) -> CChar { CChar(bitPattern: type.asciiValue!) }
}
