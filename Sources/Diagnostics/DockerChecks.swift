import DockerConfiguration
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Whether Docker will run this helper at all: the CLI, its version, its daemon, `config.json`, and the
/// `docker-credential-acr` on PATH.
struct DockerChecks {
    let environment: [String: String]
    /// The running executable, to compare with the one Docker would find on PATH.
    let executable: String

    static let helperName = "acr"
    static let minimumVersion = (18, 3)

    func machineChecks() async -> (checks: [Check], config: DockerConfigFile?) {
        var checks = await cliChecks()
        checks.append(helperOnPath())
        let path = DockerConfigEditor.defaultPath(environment: environment)
        do {
            if let config = try DockerConfigFile.load(path: path) {
                checks.append(Check(.dockerConfig, .ok, title: "Docker configuration", found: "\(path) is readable"))
                return (checks, config)
            }
            checks.append(Check(
                .dockerConfig, .error, title: "Docker configuration", found: "there is no \(path)",
                fix: #"create \#(path) with {"credsStore": "acr"} (or set DOCKER_CONFIG to the folder that has it)"#))
        } catch {
            checks.append(Check(
                .dockerConfig, .error, title: "Docker configuration", found: "\(error); the Docker CLI refuses to start with it",
                fix: "repair the JSON in \(path) (keep a copy: it may hold credentials)"))
        }
        return (checks, nil)
    }

    private func cliChecks() async -> [Check] {
        guard let docker = ChildProcess.find("docker", path: environment["PATH"]) else {
            return [
                Check(.dockerCommand, .warning, title: "Docker CLI", found: "`docker` is not on PATH",
                      fix: "install the Docker CLI to use `docker login/pull/push`; skopeo, podman and the kubelet use the helper without it"),
                Check(.dockerVersion, .skipped, title: "Docker version", found: "no Docker CLI"),
                Check(.dockerDaemon, .skipped, title: "Docker daemon", found: "no Docker CLI"),
            ]
        }
        var checks = [Check(.dockerCommand, .ok, title: "Docker CLI", found: docker)]
        let output = try? await ChildProcess.run(docker, ["--version"], timeout: .seconds(10))
        let text = output.map { String(decoding: $0.stdout, as: UTF8.self) } ?? ""
        if let version = Self.version(in: text) {
            let (major, minor) = Self.minimumVersion
            let recent = version.major > major || (version.major == major && version.minor >= minor)
            checks.append(Check(
                .dockerVersion, recent ? .ok : .error, title: "Docker version",
                found: "\(version.major).\(version.minor)" + (recent ? "" : ", older than 18.03"),
                fix: recent ? nil : "upgrade the Docker CLI to 18.03 or later: older ones do not pass credentials helpers correctly"))
        } else {
            checks.append(Check(
                .dockerVersion, .warning, title: "Docker version", found: "`docker --version` printed no version",
                fix: "check that \(docker) is the Docker CLI"))
        }
        let server = try? await ChildProcess.run(docker, ["version", "--format", "{{.Server.Version}}"], timeout: .seconds(10))
        if let server, server.status == 0 {
            let version = String(decoding: server.stdout, as: UTF8.self).trimmingSpaces
            checks.append(Check(.dockerDaemon, .ok, title: "Docker daemon", found: "reachable, version \(version)"))
        } else {
            let reason = server.map { String(decoding: $0.stderr, as: UTF8.self).firstLine } ?? "no answer in 10 s"
            checks.append(Check(
                .dockerDaemon, .warning, title: "Docker daemon", found: "not reachable (\(reason))",
                fix: "start the Docker daemon for pull and push; `docker login -u … --password-stdin` works without it"))
        }
        return checks
    }

    /// "Docker version 20.10.24+dfsg1, build 297e128" → (20, 10)
    static func version(in text: String) -> (major: Int, minor: Int)? {
        guard let range = text.firstRange(of: "version ") else { return nil }
        let numbers = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }.split(separator: ".")
        guard numbers.count >= 2, let major = Int(numbers[0]), let minor = Int(numbers[1]) else { return nil }
        return (major, minor)
    }

    private func helperOnPath() -> Check {
        let title = "docker-credential-acr on PATH"
        guard let found = ChildProcess.find("docker-credential-acr", path: environment["PATH"]) else {
            return Check(
                .helperPath, .error, title: title, found: "Docker cannot find docker-credential-acr on PATH",
                fix: "install it (`make install`), or put the folder of \(executable) on PATH")
        }
        if Self.realPath(found) == Self.realPath(executable) {
            return Check(.helperPath, .ok, title: title, found: "\(found) is this program")
        }
        return Check(
            .helperPath, .warning, title: title, found: "Docker runs \(found), which is not this program (\(executable))",
            fix: "remove or replace \(found), or put this program's folder earlier on PATH")
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether Docker (and skopeo, podman) would ask this helper for `host`.
    func routing(for host: String, config: DockerConfigFile?, registry: String) -> [Check] {
        guard let config else {
            return [Check(.helperConfig, .skipped, registry: registry, title: "Helper for \(host)", found: "no Docker configuration")]
        }
        var checks: [Check] = []
        let title = "Helper for \(host)"
        let helper = config.credentialHelper(for: host)
        switch (helper, config.credsStore) {
        case (Self.helperName?, _):
            checks.append(Check(.helperConfig, .ok, registry: registry, title: title,
                                found: "credHelpers sends \(host) to docker-credential-acr (Docker, skopeo, podman)"))
        case (let other?, _):
            checks.append(Check(
                .helperShadowed, .error, registry: registry, title: title,
                found: "credHelpers sends \(host) to docker-credential-\(other), not to this helper",
                fix: #"set "credHelpers": {"\#(host)": "acr"} in \#(config.path), or remove that entry"#))
        case (nil, Self.helperName?):
            checks.append(Check(
                .helperConfig, .ok, registry: registry, title: title,
                found: #""credsStore": "acr" (Docker uses it; skopeo and podman read only credHelpers)"#))
        case (nil, let other?):
            checks.append(Check(
                .helperConfig, .error, registry: registry, title: title,
                found: #""credsStore": "\#(other)": Docker keeps credentials with docker-credential-\#(other) and never asks this helper"#,
                fix: #"set "credsStore": "acr" in \#(config.path), or "credHelpers": {"\#(host)": "acr"} for this registry only"#))
        case (nil, nil):
            checks.append(Check(
                .helperConfig, .error, registry: registry, title: title,
                found: "\(config.path) names no credential helper: Docker keeps passwords in the file and never asks this helper",
                fix: #"add "credsStore": "acr" to \#(config.path) (or "credHelpers": {"\#(host)": "acr"})"#))
        }
        if let key = config.inlineCredential(for: host) {
            let usedByDocker = helper == nil && config.credsStore == nil
            checks.append(Check(
                .helperShadowed, usedByDocker ? .error : .warning, registry: registry, title: "Credentials in config.json",
                found: "auths[\"\(key)\"] holds a credential in plain text"
                    + (helper == nil ? ", which skopeo and podman use instead of the helper" : ""),
                fix: "remove it: `docker logout \(host)`, then log in again with the helper configured"))
        } else if helper == nil || helper == Self.helperName {
            checks.append(Check(.helperShadowed, .ok, registry: registry, title: "Credentials in config.json",
                                found: "no credential for \(host) in config.json itself"))
        }
        return checks
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    var firstLine: String {
        split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }
}
