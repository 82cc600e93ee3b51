import ACRTokenExchange
import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import ErrorExplanation
import HTTPTransport

/// Runs every check for the registries asked about, as `docker-credential-acr diagnose` does. Its
/// dependencies are values, so that tests drive it against the emulator and a private keyring.
public struct Diagnostician {
    public let environment: [String: String]
    public let configuration: ACRConfiguration
    public let connection: AzureConnection
    public let now: @Sendable () -> Int64
    /// The running program, to compare with the `docker-credential-acr` Docker finds on PATH.
    public let executable: String
    public let isAzureVM: Bool

    /// Why the helper's configuration file could not be used; the checks then run with the defaults.
    let configurationProblem: ConfigurationError?

    public init(
        environment: [String: String], connection: AzureConnection, now: @escaping @Sendable () -> Int64,
        executable: String, isAzureVM: Bool = IdentityResolver.detectAzureVM()
    ) {
        self.environment = environment
        do {
            configuration = try ACRConfiguration.load(environment: environment)
            configurationProblem = nil
        } catch {
            configuration = ACRConfiguration()
            configurationProblem = error
        }
        self.connection = connection
        self.now = now
        self.executable = executable
        self.isAzureVM = isAzureVM
    }

    /// Checks `registries`, or, when none is given, the ACR registries that Docker's configuration, the
    /// store and the helper's configuration name.
    public func diagnose(_ registries: [String], pull: String?, push: String?) async -> Diagnosis {
        let (machine, config) = await DockerChecks(environment: environment, executable: executable).machineChecks()
        // The store `get` would use; nil when it cannot be opened (the keyring checks say why).
        let (keyring, store) = KeyringChecks(environment: environment).run()
        var checks = machine + keyring
        if let configurationProblem {
            checks.append(Check(
                .helperConfigFile, .error, title: "docker-credential-acr configuration", found: configurationProblem.cause,
                fix: configurationProblem.fix))
        }
        let names = registries.isEmpty ? knownRegistries(config, store: store) : registries
        if names.isEmpty {
            checks.append(Check(
                .loginServer, .warning, title: "Registries", found: "no ACR registry in Docker's configuration or in the store",
                fix: "name one: docker-credential-acr diagnose myregistry.azurecr.io"))
        }
        var checked: [String] = []
        for input in names {
            let name = RegistryName(input, known: configuration.knownHosts)
            // Every check of this registry is filed under the login server it was checked as.
            let label = name.server?.name ?? input
            checked.append(label)
            var nameCheck = name.check
            nameCheck.registry = label
            checks.append(nameCheck)
            checks += DockerChecks(environment: environment, executable: executable)
                .routing(for: name.host, config: config, registry: label)
            if let server = name.server {
                checks += await RegistryChecks(server: server, tools: self, store: store, pull: pull, push: push).run()
            }
        }
        return Diagnosis(checks: checks, registries: checked)
    }

    private func knownRegistries(_ config: DockerConfigFile?, store: (any CredentialAndTokenStore)?) -> [String] {
        let stored = (try? store?.allUsernames().keys.map { $0 }) ?? []
        let candidates = (config?.registries ?? []) + stored + Array(configuration.registries.keys)
        var seen: Set<String> = []
        return candidates.compactMap { candidate in
            guard let address = try? ServerAddress(candidate), let server = LoginServer(address, known: configuration.knownHosts),
                  seen.insert(server.name).inserted
            else { return nil }
            return server.name
        }.sorted()
    }
}

/// The outcome of one `diagnose` run.
public struct Diagnosis: Sendable {
    public let checks: [Check]
    public let registries: [String]

    /// A login would succeed when no check found an error.
    public var loginWouldSucceed: Bool { !checks.contains { $0.status == .error } }
}
