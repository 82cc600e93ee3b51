/// An Azure AD access token for one resource (here: ACR's), with what the exchange needs to know of it.
public struct AzureADToken: Sendable, Equatable {
    public var accessToken: String
    /// Seconds since 1970.
    public var expiresOn: Int64
    /// The tenant that issued it (`tid`), when the token says.
    public var tenant: String?
    /// A person's sign-in with the new refresh token Azure AD answered with, to keep in place of the old.
    public var renewedSignIn: SignIn?

    public init(accessToken: String, expiresOn: Int64, tenant: String?, renewedSignIn: SignIn? = nil) {
        self.accessToken = accessToken
        self.expiresOn = expiresOn
        self.tenant = tenant
        self.renewedSignIn = renewedSignIn
    }

    /// Takes the tenant from the token's own claims, and as expiry the earlier of the answer's and the
    /// token's `exp`: a token is worth no more than what the service that checks it will accept.
    init(accessToken: String, expiresOn: Int64?, now: Int64) {
        let claims = JWT(accessToken)
        let candidates = [expiresOn, claims?.expiresOn].compactMap { $0 }
        self.init(accessToken: accessToken, expiresOn: candidates.min() ?? now + 3600, tenant: claims?.string("tid"))
    }
}

/// The resource and scope of ACR's Azure AD application, the same in every cloud. Not the ARM scope:
/// an ARM token would open all of Azure if it leaked.
public enum ContainerRegistryResource {
    public static let resource = "https://containerregistry.azure.net"
    public static let scope = resource + "/.default"
}

/// An Azure cloud: where its Azure AD lives.
public struct AzureCloud: Sendable, Hashable {
    public let name: String
    /// With a trailing slash, as the Azure SDKs write it.
    public let authorityHost: String

    public static let azurePublic = AzureCloud(name: "AzureCloud", authorityHost: "https://login.microsoftonline.com/")
    public static let azureChina = AzureCloud(name: "AzureChinaCloud", authorityHost: "https://login.chinacloudapi.cn/")
    public static let azureUSGovernment = AzureCloud(
        name: "AzureUSGovernment", authorityHost: "https://login.microsoftonline.us/")

    /// The cloud a name stands for, in the Azure CLI's spelling (`AzureCloud`, `AzureUSGovernment`) or
    /// cloud-provider-azure's (`AzurePublicCloud`, `AzureUSGovernmentCloud`), any case.
    public static func named(_ name: String) -> AzureCloud? {
        switch name.lowercased() {
        case "azurecloud", "azurepubliccloud": .azurePublic
        case "azurechinacloud": .azureChina
        case "azureusgovernment", "azureusgovernmentcloud": .azureUSGovernment
        default: nil
        }
    }
}
