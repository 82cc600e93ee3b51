import DockerCredentialProtocol
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// What `configure` is asked to do.
public enum ConfigChange: Equatable, Sendable {
    /// `"credsStore": "acr"`: Docker asks the helper for every registry.
    case global
    /// `"credHelpers": {registry: "acr"}` for these registries only, the form skopeo and podman read.
    case registries([String])
    /// Back to the settings from before `configure` (see `DockerConfigEditor`).
    case undo
}

/// A change worked out but not yet written: `--dry-run` shows it, `apply` writes exactly it.
public struct ConfigPlan: Sendable {
    /// What changes, for people: the file, then one line per setting; or one line saying why nothing does.
    public let summary: String
    /// The change as a unified diff of the file; empty when nothing changes.
    public let diff: String
    public var isNoChange: Bool { after == nil }

    let original: ConfigFile
    let after: [UInt8]?
    /// What to copy to the backup first, if anything.
    let backup: [UInt8]?
}

/// Edits Docker's `config.json` so that Docker asks this helper for credentials, and leaves everything
/// else in it as it was: every other key, its order and its values, numbers in their original text. The
/// file is written in Docker's own layout (tab indentation), so a file Docker wrote changes only in the
/// lines of the setting.
///
/// **Backup.** `config.json.bak-docker-credential-acr`, beside `path` (beside the link when `path` is one;
/// see `ConfigFile` for links), mode 0600, holds the file as it was before it named acr: a write to a file
/// that names acr nowhere, or that has no backup yet, copies the file there first; later writes keep it,
/// so that `undo` after several `configure`s goes back to the settings from before the first.
///
/// **Undo** touches only `credsStore` and the `credHelpers` entries that are "acr": each gets back its
/// value from the backup, or is removed when the backup has none or there is no backup (and an emptied
/// `credHelpers` goes too, unless the backup has one). Nothing else is taken from the backup, so a
/// `docker login` or an edit made since is never lost, and a setting changed away from acr since stays
/// as it was left. A backup that is not a Docker configuration is refused rather than guessed around.
///
/// `apply` refuses a plan when the file changed after `plan` read it. Docker writes the file without a
/// lock, so a `docker login` in the short moment between that check and the rename can still be lost.
public struct DockerConfigEditor: Sendable {
    /// The `credsStore`/`credHelpers` value that names this helper: Docker runs `docker-credential-acr`.
    private static let helperValue = JSONValue.string("acr")

    public let path: String
    public var backupPath: String { path + ".bak-docker-credential-acr" }
    /// The `credHelpers` key of Docker Hub in this file: the Docker CLI's, or containers/image's.
    let dockerHubKey: String

    public init(path: String) {
        self.path = path
        dockerHubKey = "https://index.docker.io/v1/"
    }

    /// A containers `auth.json` (podman, buildah, skopeo): the same shape as Docker's file, Docker Hub
    /// keyed `docker.io`; those tools ignore `credsStore`, so only `credHelpers` may be set.
    public init(containersAuthFile path: String) {
        self.path = path
        dockerHubKey = ServerAddress.dockerHubKey
    }

    /// The auth files of podman, buildah and skopeo to edit: `$REGISTRY_AUTH_FILE` alone where it is set,
    /// else `~/.config/containers/auth.json` and, where it exists, `$XDG_RUNTIME_DIR/containers/auth.json`,
    /// which they read first (podman login writes there).
    public static func containersAuthFiles(environment: [String: String]) -> [String] {
        if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty { return [file] }
        let home = Self.home(environment)
        var files = [(environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? home + "/.config") + "/containers/auth.json"]
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/"), ConfigFile.exists(runtime + "/containers/auth.json") {
            files.append(runtime + "/containers/auth.json")
        }
        return files
    }

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, as the Docker CLI looks for it.
    public static func defaultPath(environment: [String: String]) -> String {
        if let folder = environment["DOCKER_CONFIG"], !folder.isEmpty { return folder + "/config.json" }
        return home(environment) + "/.docker/config.json"
    }

    /// `$HOME`, else the user's home folder from the password database.
    private static func home(_ environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        return getpwuid(geteuid())?.pointee.pw_dir.map { String(cString: $0) } ?? ""
    }

    /// The `credHelpers` key Docker looks `registry` up by: host[:port], lowercase, without scheme or
    /// slash; Docker Hub's is `https://index.docker.io/v1/`, the only one the Docker CLI asks for it.
    static func credHelpersKey(_ registry: String, dockerHub: String = "https://index.docker.io/v1/") throws(DockerConfigurationError) -> String {
        let address: ServerAddress
        do {
            address = try ServerAddress(registry)
        } catch {
            throw .invalidRegistry(registry, reason: error.description)
        }
        if address.key == ServerAddress.dockerHubKey { return dockerHub }
        guard !address.key.contains("/") else {
            throw .invalidRegistry(registry, reason: "Docker chooses helpers by host[:port]; give it without a path")
        }
        return address.key
    }

    /// Reads the file and works out `change`; writes nothing.
    public func plan(_ change: ConfigChange) throws(DockerConfigurationError) -> ConfigPlan {
        let original = try ConfigFile.read(path)
        let parsed: JSONValue
        do {
            parsed = try Self.document(original.contents ?? [])
        } catch {
            switch error {
            case .syntax(let error): throw .invalidJSON(path: original.file, detail: error.description)
            case .notAnObject(let kind): throw .notAnObject(path: original.file, kind: kind)
            }
        }
        let settings: HelperSettings
        do {
            settings = try HelperSettings(parsed)
        } catch {
            throw .unexpectedType(path: original.file, key: error.key, expected: error.expected)
        }

        var document = parsed
        var edit: Edit
        switch change {
        case .global: edit = Self.setGlobal(in: &document, settings)
        case .registries(let registries): edit = try Self.set(registries, in: &document, settings, dockerHub: dockerHubKey)
        case .undo: edit = try undo(in: &document, settings)
        }
        edit.notes = edit.notes.map { "  " + $0 }
        guard !edit.changes.isEmpty else {
            let summary = ([path + edit.unchanged] + edit.notes).joined(separator: "\n")
            return ConfigPlan(summary: summary, diff: "", original: original, after: nil, backup: nil)
        }

        var after = Self.bytes(of: document, like: original.contents)
        // Undone with nothing changed since configure: the file's very bytes from before it, its layout too.
        var restoredExactly = false
        if case .undo = change, let backup = try backup(), backup.document == document {
            after = backup.bytes
            restoredExactly = true
        }
        var heading = path
        if original.file != path { heading += " (a link to \(original.file))" }
        if original.contents == nil { heading += " (new file)" }
        if restoredExactly {
            edit.notes.append("  nothing else changed since configure: the file gets back its bytes from \(backupPath)")
        } else if let contents = original.contents, !contents.isEmpty, Self.bytes(of: parsed, like: contents) != contents {
            edit.notes.append("  the file is rewritten in Docker's layout (tab indentation); see the diff")
        }
        let backup = !settings.names(Self.helperValue) || !ConfigFile.exists(backupPath) ? original.contents : nil
        if backup != nil { edit.notes.append("  the current file is copied to \(backupPath) first") }
        return ConfigPlan(
            summary: ([heading + ":"] + edit.changes.map { "  " + $0 } + edit.notes).joined(separator: "\n"),
            diff: LineDiff.unified(
                Self.redacted(original.contents ?? []), Self.redacted(after), from: original.contents == nil ? "/dev/null" : path, to: path),
            original: original, after: after, backup: backup
        )
    }

    /// The file with the values of Docker's secret keys (`auth`: base64 of user:password, `identitytoken`,
    /// `registrytoken`, `password`) and URLs' user info replaced by `…`, so that a diff shown on a terminal
    /// shows none. A line
    /// keeps its place, so the diff lines up with the real file.
    static func redacted(_ bytes: [UInt8]) -> [UInt8] {
        let secret = /("(?i:auth|identitytoken|registrytoken|password)"\s*:\s*")(?:[^"\\]|\\.)*"/
        // A proxy URL's user and password (`proxies`), as the helper shows proxies everywhere: `http://…@host`.
        let userInfo = /(:\/\/)[^"\/@\s]+@/
        return Array(String(decoding: bytes, as: UTF8.self).replacing(secret) { $0.output.1 + "…\"" }
            .replacing(userInfo) { $0.output.1 + "…@" }.utf8)
    }

    /// What an edit did, for the summary.
    private struct Edit {
        /// One line per setting changed: `credsStore: "desktop" → "acr"`.
        var changes: [String] = []
        var notes: [String] = []
        /// What follows the path when nothing changed.
        var unchanged = ""

        mutating func record(_ setting: String, from old: JSONValue?, to new: JSONValue?) {
            changes.append("\(setting): \(old?.text ?? "(none)") → \(new?.text ?? "(none)")")
        }
    }

    private static func setGlobal(in document: inout JSONValue, _ settings: HelperSettings) -> Edit {
        var edit = Edit(unchanged: " already sends every registry to docker-credential-acr (credsStore); nothing to change")
        if settings.credsStore != helperValue {
            document.setMember("credsStore", to: helperValue)
            edit.record("credsStore", from: settings.credsStore, to: helperValue)
        }
        let others = settings.registries.filter { settings.helper(for: $0) != helperValue }
        if !others.isEmpty {
            edit.notes.append("credHelpers still sends \(others.joined(separator: ", ")) to other helpers; it wins over credsStore")
        }
        return edit
    }

    private static func set(
        _ registries: [String], in document: inout JSONValue, _ settings: HelperSettings, dockerHub: String
    ) throws(DockerConfigurationError) -> Edit {
        guard !registries.isEmpty else { throw .noRegistry }
        var keys: [String] = []
        for registry in registries {
            let key = try credHelpersKey(registry, dockerHub: dockerHub)
            if !keys.contains(key) { keys.append(key) }
        }
        var edit = Edit(unchanged: " already sends \(keys.joined(separator: ", ")) to docker-credential-acr (credHelpers); nothing to change")
        for key in keys where settings.helper(for: key) != helperValue {
            document.setCredHelper(key, to: helperValue)
            edit.record("credHelpers[\(JSONValue.string(key).text)]", from: settings.helper(for: key), to: helperValue)
        }
        return edit
    }

    private func undo(in document: inout JSONValue, _ settings: HelperSettings) throws(DockerConfigurationError) -> Edit {
        let previous = try previousSettings()
        var edit = Edit(unchanged: settings.names(Self.helperValue)
            ? ": what names acr was there before configure (see \(backupPath)); nothing to undo"
            : " names acr nowhere; nothing to undo")
        if settings.credsStore == Self.helperValue, previous?.credsStore != Self.helperValue {
            let restored = previous?.credsStore
            if let restored { document.setMember("credsStore", to: restored) } else { document.removeMember("credsStore") }
            edit.record("credsStore", from: Self.helperValue, to: restored)
        }
        var removedHelper = false
        for key in settings.registries where settings.helper(for: key) == Self.helperValue {
            let restored = previous?.helper(for: key)
            guard restored != Self.helperValue else { continue }
            if let restored { document.setCredHelper(key, to: restored) } else { document.removeCredHelper(key) }
            removedHelper = removedHelper || restored == nil
            edit.record("credHelpers[\(JSONValue.string(key).text)]", from: Self.helperValue, to: restored)
        }
        // Docker omits an empty credHelpers; one the backup has is kept.
        if removedHelper, document.member("credHelpers") == .object([]), previous?.credHelpers == nil {
            document.removeMember("credHelpers")
        }
        return edit
    }

    /// Writes `plan`: the backup if it needs one, then the file, each by an atomic replace. Does nothing
    /// for a plan without change; refuses one whose file changed since it was read.
    public func apply(_ plan: ConfigPlan) throws(DockerConfigurationError) {
        guard let after = plan.after else { return }
        guard try ConfigFile.read(path) == plan.original else { throw .changedSincePlanned(path: path) }
        if plan.original.contents == nil { try ConfigFile.makeDirectory(ConfigFile.directory(of: plan.original.file)) }
        if let backup = plan.backup { try ConfigFile.replace(backupPath, with: backup, mode: 0o600) }
        try ConfigFile.replace(plan.original.file, with: after, mode: plan.original.mode ?? 0o600)
    }

    /// The settings the backup holds; nil when there is none.
    private func previousSettings() throws(DockerConfigurationError) -> HelperSettings? {
        guard let document = try backup()?.document else { return nil }
        do {
            return try HelperSettings(document)
        } catch {
            throw .invalidBackup(path: backupPath, detail: "\(error.key) is not \(error.expected)")
        }
    }

    /// The backup's bytes and document; nil when there is none.
    private func backup() throws(DockerConfigurationError) -> (bytes: [UInt8], document: JSONValue)? {
        let bytes: [UInt8]?
        do {
            bytes = try FileDescriptorReader.contents(of: backupPath, limit: ConfigFile.sizeLimit)
        } catch {
            throw .unreadable(path: backupPath, reason: error.description)
        }
        guard let bytes else { return nil }
        do {
            return (bytes, try Self.document(bytes))
        } catch {
            throw .invalidBackup(path: backupPath, detail: error.description)
        }
    }

    /// Why a file is not a configuration.
    private enum DocumentError: Error, CustomStringConvertible {
        case syntax(JSONSyntaxError)
        case notAnObject(String)

        var description: String {
            switch self {
            case .syntax(let error): error.description
            case .notAnObject(let kind): "it holds \(kind), not a JSON object"
            }
        }
    }

    /// The file's JSON object; an empty file is an empty configuration, as for Docker.
    private static func document(_ bytes: [UInt8]) throws(DocumentError) -> JSONValue {
        guard bytes.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return .object([]) }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw .syntax(error)
        }
        guard case .object = value else { throw .notAnObject(value.kind) }
        return value
    }

    /// The document's bytes, ending in a newline if the file did (Docker writes none); a new or empty file
    /// gets one.
    private static func bytes(of document: JSONValue, like original: [UInt8]?) -> [UInt8] {
        document.indentedBytes + (original?.last.map { $0 == UInt8(ascii: "\n") } ?? true ? [UInt8(ascii: "\n")] : [])
    }
}
