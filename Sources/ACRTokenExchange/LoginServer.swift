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

    /// The login server for `address`, or nil when it is no ACR registry. `mapped` are hosts that the
    /// configuration declares to be registries (private endpoints, test setups).
    public init?(_ address: ServerAddress, mapped: [String: AzureCloud] = [:]) {
        if let cloud = mapped[address.key] {
            name = address.key
            self.cloud = cloud
            return
        }
        // A login server has no path, and no port but the default.
        let authority = address.key
        let host = address.host
        guard authority == host || authority == host + ":443" else { return nil }
        guard let (suffix, cloud) = Self.suffixes.first(where: { host.hasSuffix($0.0) }) else { return nil }
        let labels = host.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false)
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
