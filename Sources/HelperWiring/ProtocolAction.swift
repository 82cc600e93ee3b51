import ACRTokenExchange
import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The helper's name and version, printed by both binaries.
public enum HelperVersion {
    public static let name = "docker-credential-acr"
    public static let version = "0.3.0"

    /// Docker's one-line `version` answer, then where the binary comes from.
    public static var description: String {
        CredentialHelper.version(name: name, version: version) + "commit \(BuildInfo.commit) (\(BuildInfo.commitDate)), \(build)\n"
    }

    private static var build: String {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        #if arch(x86_64)
        let architecture = "x86_64"
        #elseif arch(arm64)
        let architecture = "arm64"
        #else
        let architecture = "other architecture"
        #endif
        return "\(configuration) build, Linux \(architecture)"
    }
}

/// Everything an action needs, built from the process's environment.
public struct Wiring {
    public let environment: [String: String]
    /// Nil for the actions that answer from the stores only (`import`, `logout`).
    public let connection: AzureConnection?

    public init(connection: AzureConnection?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.connection = connection
        self.environment = environment
    }

    /// Reaching Azure through libcurl, made at the first request; `signer` as for `AzureConnection.curl`.
    public init(signer: (any ClientAssertionSigner)?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(connection: .curl(environment: environment, signer: signer), environment: environment)
    }

    public func helper() -> CredentialHelper {
        CredentialHelper { try registryCredentials() }
    }

    public func registryCredentials() throws -> RegistryCredentials {
        let choice = try StoreChoice(environment: environment)
        let store = DeferredStore { [environment] in try choice.open(environment: environment) }
        var logger = Logger(label: HelperVersion.name) { [environment] _ in
            FileLogHandler(path: FileLogHandler.defaultPath(environment: environment))
        }
        logger.logLevel = environment["DOCKER_CREDENTIAL_ACR_DEBUG"] == "1" ? .debug : .info
        return RegistryCredentials(
            store: store, configuration: try ACRConfiguration.load(environment: environment),
            environment: environment, connection: connection,
            now: { Int64(Date().timeIntervalSince1970) },
            lockDirectory: StoreChoice.lockDirectory(environment), logger: logger,
            notice: { message in Output.write("\(HelperVersion.name): \(message)\n", to: STDERR_FILENO) })
    }
}

/// The five actions of Docker's protocol, run with its conventions: the answer or the error as one line
/// on stdout, exit status 1 on failure. Errors that are not protocol sentinels also go to stderr, which
/// Docker shows to the user even where it swallows stdout (a `get` during `docker login`).
public enum ProtocolAction: String, CaseIterable, Sendable {
    case store, get, erase, list, version

    /// Whether the action reads Docker's input from stdin (`list` is sent a placeholder it ignores).
    public var readsInput: Bool { self == .store || self == .get || self == .erase }

    /// Runs the action and returns the exit status; throws only `NetworkNeeded`, when a new token must be
    /// fetched that `wiring`'s connection cannot get (a certificate's, without a signer).
    public func run(input: [UInt8], wiring: Wiring) async throws(NetworkNeeded) -> Int32 {
        do {
            let helper = wiring.helper()
            let output: String?
            switch self {
            case .store: try helper.store(input: input); output = nil
            case .get: output = try await helper.get(input: input)
            case .erase: try helper.erase(input: input); output = nil
            case .list: output = try helper.list()
            case .version: output = HelperVersion.description
            }
            if let output { Output.write(output, to: STDOUT_FILENO) }
            return 0
        } catch is NetworkNeeded {
            throw NetworkNeeded()
        } catch {
            Output.write("\(error)\n", to: STDOUT_FILENO)
            if (error as? CredentialHelperError)?.isSentinel != true {
                Output.write("\(HelperVersion.name): \(error)\n", to: STDERR_FILENO)
            }
            if let error = error as? ACRError {
                Output.write(
                    "\(HelperVersion.name): to check everything a login needs, run: docker-credential-acr diagnose \(error.server)\n",
                    to: STDERR_FILENO)
            }
            return 1
        }
    }
}

public enum Output {
    /// All of `text`, retrying short and interrupted writes.
    public static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            bytes = bytes.dropFirst(count)
        }
    }
}
