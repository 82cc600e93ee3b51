import FoundationEssentials
import HTTPTransport
import JSONInput
import SystemIO

/// The Azure CLI's signed-in account: `az account get-access-token`. Nothing secret is put on its
/// command line; the token comes back on its stdout.
public struct AzureCLISource: IdentitySource {
    /// The `az` executable found on PATH.
    public let executable: String
    /// The tenant the configuration file names for the registry; else the account's own.
    public let tenantID: String?
    /// Whom `az` is logged in as, read from its profile without running it.
    public let account: AzureCLIAccount

    public init(executable: String, tenantID: String?, account: AzureCLIAccount) {
        self.executable = executable
        self.tenantID = tenantID
        self.account = account
    }

    public var kind: IdentityKind { .azureCLI }
    /// After `az login` as someone else, or `az account set` to another tenant, the tokens are another's.
    public var cacheIdentity: String { "azure-cli:\(account.type):\(account.name):\(tenantID ?? account.tenant)" }
    public var tenant: String? { tenantID }

    public func token(resource: String, context: IdentityContext) async throws(AzureIdentityError) -> AzureADToken {
        var arguments = ["account", "get-access-token", "--resource", resource, "--output", "json"]
        if let tenantID { arguments += ["--tenant", tenantID] }
        let result: ChildProcess.Result
        do {
            result = try await ChildProcess.run(executable, arguments, timeout: context.budget.remaining)
        } catch {
            throw .azureCLIFailed(error.description)
        }
        guard result.status == 0 else {
            let message = String(decoding: result.stderr, as: UTF8.self)
            // What the Azure SDKs' AzureCliCredential takes for "not logged in": an absence, not a failure.
            if message.contains("az login") || message.contains("az account set") {
                throw .unavailable(.azureCLI, reason: "not logged in", fix: "run `az login`")
            }
            throw .azureCLIFailed(message.split(whereSeparator: \.isNewline).first.map(ServerText.clean) ?? "exit \(result.status)")
        }
        guard let answer = try? JSONInput.decode(Answer.self, from: result.stdout) else {
            throw .azureCLIFailed("its output is not the expected JSON")
        }
        return AzureADToken(accessToken: answer.accessToken, expiresOn: answer.expires_on?.value, now: context.now())
    }

    private struct Answer: Decodable {
        var accessToken: String
        var expires_on: FlexibleNumber?
    }
}

/// The account `az` is logged in as: the default subscription's entry of `azureProfile.json` in
/// `$AZURE_CONFIG_DIR` (default `~/.azure`), a file that starts with a UTF-8 byte order mark.
public struct AzureCLIAccount: Sendable, Equatable {
    /// A user's name (UPN), or a service principal's client id.
    public var name: String
    /// `user` or `servicePrincipal`.
    public var type: String
    public var tenant: String

    public init(name: String, type: String, tenant: String) {
        self.name = name
        self.type = type
        self.tenant = tenant
    }

    public static func profilePath(environment: [String: String]) -> String {
        if let folder = environment["AZURE_CONFIG_DIR"], !folder.isEmpty { return folder + "/azureProfile.json" }
        return (environment["HOME"] ?? "") + "/.azure/azureProfile.json"
    }

    /// The account, or why there is none (`az` is logged out).
    public static func read(environment: [String: String]) -> Result<AzureCLIAccount, NotLoggedIn> {
        let path = profilePath(environment: environment)
        guard var bytes = try? FileDescriptorReader.contents(of: path, limit: 16 << 20) else {
            return .failure(NotLoggedIn(reason: "no \(path)"))
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let profile = try? JSONInput.decode(Profile.self, from: bytes) else {
            return .failure(NotLoggedIn(reason: "\(path) is not the profile `az` writes"))
        }
        guard let chosen = profile.subscriptions.first(where: { $0.isDefault == true }), let user = chosen.user else {
            return .failure(NotLoggedIn(reason: "no account in \(path)"))
        }
        return .success(AzureCLIAccount(name: user.name, type: user.type, tenant: chosen.tenantId))
    }

    public struct NotLoggedIn: Error, Sendable {
        public let reason: String
    }

    private struct Profile: Decodable {
        struct Subscription: Decodable {
            struct User: Decodable {
                var name: String
                var type: String
            }
            var isDefault: Bool?
            var tenantId: String
            var user: User?
        }
        var subscriptions: [Subscription]
    }
}
