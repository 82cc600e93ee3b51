import FoundationEssentials
import SystemIO

/// The Azure CLI's signed-in account: `az account get-access-token`. Nothing secret is put on its
/// command line; the token comes back on its stdout.
public struct AzureCLISource: IdentitySource {
    /// The `az` executable found on PATH.
    public let executable: String
    public let tenantID: String?

    public init(executable: String, tenantID: String?) {
        self.executable = executable
        self.tenantID = tenantID
    }

    public var kind: IdentityKind { .azureCLI }
    public var cacheIdentity: String { "azure-cli:\(tenantID ?? "default")" }
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
            if message.contains("az login") { throw .azureCLINotLoggedIn }
            throw .azureCLIFailed(message.split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit \(result.status)")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(result.stdout)) else {
            throw .azureCLIFailed("its output is not the expected JSON")
        }
        return AzureADToken(accessToken: answer.accessToken, expiresOn: answer.expires_on?.value, now: context.now())
    }

    private struct Answer: Decodable {
        var accessToken: String
        var expires_on: FlexibleNumber?
    }
}
