import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import ErrorExplanation
import FoundationEssentials
import JSONInput
import SystemIO

/// Settings of the ACR token engine: the optional configuration file
/// (`$XDG_CONFIG_HOME/docker-credential-acr/config.json`, or `DOCKER_CREDENTIAL_ACR_CONFIG`) and the
/// endpoint overrides (`DOCKER_CREDENTIAL_ACR_ENDPOINTS`) and a custom cloud's login-server suffixes
/// (`DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES`).
///
///     {
///       "refreshMarginSeconds": 600,
///       "renewAtFractionLeft": 0.5,
///       "timeoutSeconds": 20,
///       "registries": {
///         "myregistry.azurecr.io": { "identity": "workload-identity", "tenant": "…", "clientId": "…" },
///         "registry.internal.example:5000": { "cloud": "AzureCloud" }
///       }
///     }
public struct ACRConfiguration: Sendable {
    /// A cached ACR refresh token with less life left than this is replaced.
    public var refreshMargin: Int64 = 600
    /// ... and so is one with less than this share of its life left: a token handed out then lasts at least
    /// half its life (90 minutes of ACR's 3 hours), longer than the builds that keep it.
    public var renewAtFractionLeft: Double = 0.5
    /// The most one `get` may spend on the network.
    public var timeout: Duration = .seconds(20)
    /// A PEM file of CA certificates to trust on top of the system's (as `SSL_CERT_FILE`), for daemons
    /// such as the kubelet that get no shell environment.
    public var caBundle: String?
    /// The proxies the environment would give (`https`, `http`, `noProxy`), for daemons without one.
    public var proxy: (https: String?, http: String?, noProxy: String?) = (nil, nil, nil)
    /// By `ServerAddress.key`.
    public var registries: [String: Registry] = [:]
    /// Login server name → base URL of its `/v2/` and `/oauth2/…` endpoints.
    public var endpoints: [String: String] = [:]
    /// Login-server suffixes of clouds other than the built-in ones (`.azurecr.my.cloud`).
    public var customSuffixes: [(String, AzureCloud)] = []

    public struct Registry: Sendable, Equatable {
        public var identity: IdentitySettings
        public var cloud: AzureCloud
        public var refreshMargin: Int64?
    }

    public init() {}

    public static let fileVariable = "DOCKER_CREDENTIAL_ACR_CONFIG"
    public static let endpointsVariable = "DOCKER_CREDENTIAL_ACR_ENDPOINTS"
    public static let suffixesVariable = "DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES"

    public static func path(environment: [String: String]) -> String {
        if let path = environment[fileVariable], !path.isEmpty { return path }
        if let home = environment["XDG_CONFIG_HOME"], home.hasPrefix("/") { return home + "/docker-credential-acr/config.json" }
        return (environment["HOME"] ?? "") + "/.config/docker-credential-acr/config.json"
    }

    public static func load(environment: [String: String]) throws(ConfigurationError) -> ACRConfiguration {
        var configuration = ACRConfiguration()
        let path = path(environment: environment)
        if let bytes = try readIfPresent(path) {
            try configuration.apply(file: bytes, path: path)
        } else if environment[fileVariable].map({ !$0.isEmpty }) == true {
            throw .missing(path)
        }
        if let list = environment[endpointsVariable], !list.isEmpty {
            for entry in list.split(separator: ",") {
                guard let equals = entry.firstIndex(of: "=") else { throw .badEndpoint(String(entry)) }
                let server = entry[..<equals].lowercased()
                var url = String(entry[entry.index(after: equals)...])
                while url.hasSuffix("/") { url.removeLast() }
                do {
                    try EndpointPolicy.check(url, variable: endpointsVariable)
                } catch {
                    throw .insecure(error)
                }
                configuration.endpoints[server] = url
            }
        }
        configuration.customSuffixes = try customSuffixes(environment[suffixesVariable] ?? "")
        return configuration
    }

    /// `SUFFIX[=CLOUD],…`: a login server is a registry name and one of the suffixes (the leading dot
    /// may be left out), its Azure AD the cloud's (AzureCloud when none is named; `AZURE_AUTHORITY_HOST`
    /// names any other).
    static func customSuffixes(_ list: String) throws(ConfigurationError) -> [(String, AzureCloud)] {
        var suffixes: [(String, AzureCloud)] = []
        for entry in list.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            var suffix = parts[0].filter { $0 != " " }.lowercased()
            if !suffix.hasPrefix(".") { suffix = "." + suffix }
            let labels = suffix.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
            guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } })
            else { throw .badSuffix(String(entry)) }
            var cloud = AzureCloud.azurePublic
            if parts.count == 2 {
                guard let named = AzureCloud.named(parts[1].filter { $0 != " " }) else { throw .badSuffix(String(entry)) }
                cloud = named
            }
            suffixes.append((suffix, cloud))
        }
        return suffixes
    }

    /// Which hosts are login servers: ACR's suffixes, the custom ones and the registries the file maps.
    public var knownHosts: RegistryHosts {
        RegistryHosts(mapped: registries.mapValues(\.cloud), customSuffixes: customSuffixes)
    }

    public func baseURL(for server: LoginServer) -> String {
        endpoints[server.name] ?? "https://" + server.name
    }

    public func refreshMargin(for server: LoginServer) -> Int64 {
        registries[server.name]?.refreshMargin ?? refreshMargin
    }

    /// When the registry's cached ACR refresh tokens are renewed.
    public func refreshRule(for server: LoginServer) -> RenewalRule {
        RenewalRule(margin: refreshMargin(for: server), lifeShare: renewAtFractionLeft)
    }

    private struct File: Decodable {
        var refreshMarginSeconds: Int64?
        var renewAtFractionLeft: Double?
        var timeoutSeconds: Int?
        var caBundle: String?
        var proxy: ProxyEntry?
        var registries: [String: RegistryEntry]?
    }

    private struct ProxyEntry: Decodable {
        var https: String?
        var http: String?
        var noProxy: String?
    }

    private struct RegistryEntry: Decodable {
        var identity: String?
        var tenant: String?
        var clientId: String?
        var cloud: String?
        var refreshMarginSeconds: Int64?
    }

    private mutating func apply(file bytes: [UInt8], path: String) throws(ConfigurationError) {
        let file: File
        do {
            file = try JSONInput.decode(File.self, from: bytes)
        } catch {
            throw .invalid(path, "it is not valid JSON of the documented shape")
        }
        if let margin = file.refreshMarginSeconds {
            guard (0...7200).contains(margin) else { throw .invalid(path, "refreshMarginSeconds must be 0…7200") }
            refreshMargin = margin
        }
        if let share = file.renewAtFractionLeft {
            guard (0...0.9).contains(share) else { throw .invalid(path, "renewAtFractionLeft must be 0…0.9") }
            renewAtFractionLeft = share
        }
        if let seconds = file.timeoutSeconds {
            guard (1...300).contains(seconds) else { throw .invalid(path, "timeoutSeconds must be 1…300") }
            timeout = .seconds(seconds)
        }
        if let bundle = file.caBundle {
            guard bundle.hasPrefix("/") else { throw .invalid(path, "caBundle must be an absolute path") }
            caBundle = bundle
        }
        if let proxy = file.proxy { self.proxy = (proxy.https, proxy.http, proxy.noProxy) }
        for (server, entry) in file.registries ?? [:] {
            guard let key = ServerAddress.key(of: server) else { throw .invalid(path, "'\(server)' is not a registry address") }
            var kind: IdentityKind?
            if let name = entry.identity {
                guard let known = IdentityKind(rawValue: name) else {
                    let names = IdentityKind.allCases.map(\.rawValue).joined(separator: ", ")
                    throw .invalid(path, "identity '\(name)' of \(server) is none of \(names)")
                }
                kind = known
            }
            let cloud = entry.cloud.map(AzureCloud.named)
            guard cloud != .some(nil) else { throw .invalid(path, "cloud of \(server) must be AzureCloud, AzureChinaCloud or AzureUSGovernment") }
            registries[key] = Registry(
                identity: IdentitySettings(kind: kind, tenant: entry.tenant, clientID: entry.clientId),
                cloud: (cloud ?? nil) ?? .azurePublic, refreshMargin: entry.refreshMarginSeconds)
        }
    }

    private static func readIfPresent(_ path: String) throws(ConfigurationError) -> [UInt8]? {
        do {
            return try FileDescriptorReader.contents(of: path, limit: 1 << 20)
        } catch {
            throw .unreadable(path, error.description)
        }
    }
}

public enum ConfigurationError: ExplainedError, Sendable {
    case missing(String)
    case unreadable(String, String)
    case invalid(String, String)
    case badEndpoint(String)
    case badSuffix(String)
    case insecure(AzureIdentityError)

    public var cause: String {
        switch self {
        case .missing(let path): "the configuration file \(path) (from \(ACRConfiguration.fileVariable)) does not exist"
        case .unreadable(let path, let reason): "cannot read the configuration file \(path): \(reason)"
        case .invalid(let path, let reason): "the configuration file \(path) is invalid: \(reason)"
        case .badEndpoint(let entry): "\(ACRConfiguration.endpointsVariable): '\(entry)' is not SERVER=URL"
        case .badSuffix(let entry): "\(ACRConfiguration.suffixesVariable): '\(entry)' is not a DNS suffix, optionally =CLOUD"
        case .insecure(let error): error.cause
        }
    }

    public var fix: String? {
        switch self {
        case .missing, .unreadable, .invalid: nil
        case .badEndpoint: "write e.g. myreg.azurecr.io=https://proxy.example"
        case .badSuffix: "write e.g. .azurecr.my.cloud, or .azurecr.my.cloud=AzureUSGovernment"
        case .insecure(let error): error.fix
        }
    }
}

extension RenewalRule {
    /// The verdict on a cached token, its life read from its own `iat` where it is a JWT.
    public func verdict(_ token: CachedToken, now: Int64) -> Verdict {
        verdict(token.expiresOn, issuedAt: JWT(token.token)?.issuedAt, now: now)
    }

    /// When `token`, expiring at `expiresOn`, stops being fresh, its life read from its own `iat`.
    public func renewal(of token: String, expiresOn: Int64) -> Int64 {
        renewal(expiresOn: expiresOn, issuedAt: JWT(token)?.issuedAt)
    }
}
