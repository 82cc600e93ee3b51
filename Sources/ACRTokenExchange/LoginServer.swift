import AzureIdentity
import DockerCredentialProtocol

/// An Azure Container Registry login server: the only hosts that ever receive an Azure token.
///
/// The suffix is matched on the whole host, anchored, with a valid registry name before it, so that
/// `evil.azurecr.io.attacker.example` or `myreg-azurecr.io` never qualify (an older ACR helper sent
/// tokens to such hosts).
public struct LoginServer: Hashable, Sendable, CustomStringConvertible {
    /// The lowercase host (with port for hosts mapped in the configuration): ACR's `service`.
    public let name: String
    public let cloud: AzureCloud

    public var description: String { name }

    public static let suffixes: [(String, AzureCloud)] = [
        (".azurecr.io", .azurePublic), (".azurecr.cn", .azureChina), (".azurecr.us", .azureUSGovernment),
    ]

    /// The login server for `address`, or nil when it is no ACR registry of `known`.
    public init?(_ address: ServerAddress, known: RegistryHosts = RegistryHosts()) {
        if let cloud = known.mapped[address.key] {
            name = address.key
            self.cloud = cloud
            return
        }
        // A login server has no path, and no port but the default.
        let authority = address.key
        let host = address.host
        guard authority == host || authority == host + ":443" else { return nil }
        guard let (labels, cloud) = known.labels(of: host) else { return nil }
        guard Self.isRegistryLabel(labels[0]) else { return nil }
        switch labels.count {
        case 1: break
        // Geo-replicated regional endpoint: name.<region>.geo.azurecr.io
        case 3 where labels[2] == "geo" && Self.isRegionLabel(labels[1]): break
        default: return nil
        }
        name = host
        self.cloud = cloud
    }

    /// A registry name (5–50 letters and digits), optionally with the domain-name-label hash: `name-hash`.
    static func isRegistryLabel(_ label: Substring) -> Bool {
        let parts = label.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (5...50).contains(parts[0].count), parts[0].allSatisfy(isLowerAlphanumeric)
        else { return false }
        if parts.count == 2 {
            return (4...32).contains(parts[1].count) && parts[1].allSatisfy(isLowerAlphanumeric)
        }
        return true
    }

    static func isRegionLabel(_ label: Substring) -> Bool {
        (2...40).contains(label.count) && label.allSatisfy(isLowerAlphanumeric)
    }

    static func isLowerAlphanumeric(_ character: Character) -> Bool {
        ("a"..."z").contains(character) || ("0"..."9").contains(character)
    }

    /// The user name with which ACR tokens are presented.
    public static let tokenUsername = "00000000-0000-0000-0000-000000000000"
}

/// Which hosts are ACR login servers: a registry name before one of the clouds' suffixes, or before a
/// custom cloud's (AKS's `containerRegistryDNSSuffix`), and hosts the configuration maps (private
/// endpoints, test setups).
public struct RegistryHosts: Sendable {
    public var mapped: [String: AzureCloud]
    /// Built-in suffixes first, then the custom ones; each with its leading dot.
    public let suffixes: [(String, AzureCloud)]

    public init(mapped: [String: AzureCloud] = [:], customSuffixes: [(String, AzureCloud)] = []) {
        self.mapped = mapped
        suffixes = LoginServer.suffixes + customSuffixes
    }

    /// The longest suffix `host` ends with: `.azurecr.my.cloud` wins over a built-in it happens to end in.
    public func suffix(of host: String) -> (String, AzureCloud)? {
        suffixes.filter { host.hasSuffix($0.0) }.max { $0.0.count < $1.0.count }
    }

    /// The labels of `host` before its suffix (`name`, or `name`, region, `geo`), and the suffix's cloud.
    public func labels(of host: String) -> ([Substring], AzureCloud)? {
        guard let (suffix, cloud) = suffix(of: host) else { return nil }
        return (host.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false), cloud)
    }
}
