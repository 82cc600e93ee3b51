import ACRTokenExchange
import AzureIdentity
import FoundationEssentials
import JSONInput
import SystemIO

/// An AKS node's `/etc/kubernetes/azure.json` (cloud-provider-azure's configuration), read by the kubelet
/// plugin, which gets no shell environment: the tenant and the node's identity, as Azure SDK variables.
/// The plugin's own environment (the provider config's `env`) wins; the file fills in what it leaves unset.
public struct AKSNodeConfiguration: Sendable, Equatable {
    public static let defaultPath = "/etc/kubernetes/azure.json"

    var tenantID: String?
    var aadClientID: String?
    var aadClientSecret: String?
    var useManagedIdentityExtension: Bool
    /// The kubelet identity: a client id, or a resource id (`/subscriptions/…/userAssignedIdentities/…`).
    var userAssignedIdentityID: String?
    /// A custom cloud's login-server suffix (`.azurecr.my.cloud`), and the cloud it belongs to.
    var containerRegistryDNSSuffix: String?
    var cloud: String?

    private struct File: Decodable {
        var tenantId: String?
        var aadClientId: String?
        var aadClientSecret: String?
        var useManagedIdentityExtension: Bool?
        var userAssignedIdentityID: String?
        var containerRegistryDNSSuffix: String?
        var cloud: String?
    }

    /// The file at `path`, or nil when there is none.
    public static func read(_ path: String) throws(AKSNodeConfigurationError) -> AKSNodeConfiguration? {
        let bytes: [UInt8]?
        do {
            bytes = try FileDescriptorReader.contents(of: path, limit: 1 << 20)
        } catch {
            throw .unreadable(path, error.cause)
        }
        guard let bytes else { return nil }
        guard let file = try? JSONInput.decode(File.self, from: bytes) else { throw .notJSON(path) }
        func value(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
        return AKSNodeConfiguration(
            tenantID: value(file.tenantId), aadClientID: value(file.aadClientId), aadClientSecret: value(file.aadClientSecret),
            useManagedIdentityExtension: file.useManagedIdentityExtension ?? false, userAssignedIdentityID: value(file.userAssignedIdentityID),
            containerRegistryDNSSuffix: value(file.containerRegistryDNSSuffix), cloud: value(file.cloud))
    }

    /// `environment` with what this file says filled in where it says nothing. A service-principal
    /// cluster gives the app's id and secret; a managed-identity one (`useManagedIdentityExtension`, or
    /// `aadClientId` "msi") the kubelet identity's id, which IMDS takes in either form.
    public func environment(over environment: [String: String]) -> [String: String] {
        var merged = environment
        func fill(_ name: String, _ value: String?) {
            if let value, (merged[name] ?? "").isEmpty { merged[name] = value }
        }
        fill("AZURE_TENANT_ID", tenantID)
        let managed = useManagedIdentityExtension || aadClientID?.lowercased() == "msi"
        if managed {
            fill("AZURE_CLIENT_ID", userAssignedIdentityID)
        } else if let aadClientID, let aadClientSecret, (merged["AZURE_CLIENT_ID"] ?? "").isEmpty {
            merged["AZURE_CLIENT_ID"] = aadClientID
            fill("AZURE_CLIENT_SECRET", aadClientSecret)
        }
        // The built-in clouds' suffixes are known already; a cloud name outside them (AzureStackCloud)
        // leaves the Azure AD to AZURE_AUTHORITY_HOST.
        if let suffix = containerRegistryDNSSuffix {
            let cloud = self.cloud.flatMap(AzureCloud.named).map { "=" + $0.name } ?? ""
            fill(ACRConfiguration.suffixesVariable, suffix + cloud)
        }
        return merged
    }
}

public enum AKSNodeConfigurationError: Error, CustomStringConvertible {
    case unreadable(String, String)
    case notJSON(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path) (\(reason)); check its permissions, or pass --azure-config"
        case .notJSON(let path): "\(path) is not the JSON of cloud-provider-azure's configuration; check it, or pass --azure-config"
        }
    }
}
