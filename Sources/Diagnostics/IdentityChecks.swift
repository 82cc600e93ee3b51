import ACRTokenExchange
import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import ErrorExplanation

/// The credential checks of one registry: the steps of the resolution `get` runs (here live, writing
/// nothing), each mapped to a check; the checks add wording, never decisions of their own.
extension RegistryChecks {
    /// What the identity checks learnt, for the access checks after them.
    struct IdentityOutcome {
        /// A source of the chain is there (it answered or failed).
        var configured = false
        var refreshToken: String?
        var who = "the Azure identity"
        /// The id to give `az role assignment create --assignee`.
        var assignee: String?
    }

    /// The stored-credential step: what Docker gets from the store, if anything.
    func storedChecks(_ resolution: Resolution) -> [Check] {
        let title = "Stored credential"
        switch resolution.outcome(of: .storedCredential) {
        case .failed(let explanation)?:
            return [check(.storedCredential, .error, title, "cannot read it: \(explanation.cause)",
                          fix: explanation.fix ?? "see the keyring checks of this machine")]
        case .used?:
            return []  // checked against the registry by `storedCredential`
        default:
            if let expired = resolution.expiredStored { return exposedTokenUser(expired) }
            return [check(.storedCredential, .ok, title, "none stored for \(name): the helper derives one from the Azure identity")]
        }
    }

    /// The identity steps of `resolution`; with `standby`, the walk that runs once a served stored
    /// credential is gone, whose errors are only warnings now.
    func identityChecks(_ resolution: Resolution, standby: Bool) -> ([Check], IdentityOutcome) {
        var checks: [Check] = []
        var outcome = IdentityOutcome()
        let title = "Azure identity"
        func skipRest(_ reason: String) {
            checks.append(check(.aadToken, .skipped, "Azure AD token", reason))
            checks.append(check(.refreshToken, .skipped, "ACR refresh token", reason))
        }
        if case .failed(let explanation)? = resolution.outcome(of: .identitySettings) {
            checks.append(check(.identitySource, .error, title, explanation.cause, fix: explanation.fix))
            skipRest("no usable identity")
            return (soften(checks, standby), outcome)
        }
        var skipped: [String] = []
        var used: (kind: IdentityKind, reason: String)?
        for step in resolution.steps {
            guard case .identity(let kind) = step.stage else { continue }
            switch step.outcome {
            case .unavailable(let reason): skipped.append("\(kind.rawValue): \(reason)")
            case .used(let reason): used = (kind, reason)
            case .failed(let explanation):
                checks.append(check(.identitySource, .error, title, explanation.cause, fix: explanation.fix))
                skipRest("no usable identity")
                return (soften(checks, standby), outcome)
            }
        }
        guard let used else {
            if standby {
                checks.append(check(.identitySource, .ok, title, "none is there; Docker gets the stored credential"
                                    + (skipped.isEmpty ? "" : " (" + skipped.joined(separator: "; ") + ")")))
            } else {
                checks.append(check(
                    .identitySource, .error, title,
                    "no Azure identity is there, and nothing is stored for \(name): Docker gets no credential ("
                        + skipped.joined(separator: "; ") + ")",
                    fix: "sign in with `docker-credential-acr login`, set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), run `az login`, "
                        + "or store a token: az acr login --name \(name.split(separator: ".")[0]) --expose-token | docker-credential-acr import"))
            }
            skipRest("no Azure identity")
            return (checks, outcome)
        }
        outcome.configured = true
        checks.append(check(
            .identitySource, .ok, title,
            "\(used.kind.rawValue), because \(used.reason)" + (skipped.isEmpty ? "" : "; not used: " + skipped.joined(separator: "; "))))

        switch resolution.outcome(of: .azureADToken) {
        case .failed(let explanation)?:
            checks.append(check(.aadToken, .error, "Azure AD token", explanation.cause, fix: explanation.fix))
            if used.kind == .servicePrincipalSecret {
                if case .failed(let error) = resolution.answer, case .identity(_, .rejected(_, let aad))? = error as? ACRError,
                   aad.code == 7000222 {
                    checks.append(check(.clientSecretExpiry, .error, "Client secret", "AZURE_CLIENT_SECRET has expired (AADSTS7000222)",
                                        fix: explanation.fix))
                } else {
                    checks.append(check(.clientSecretExpiry, .skipped, "Client secret", "Azure AD did not get as far as the secret's expiry"))
                }
            }
            checks.append(check(.refreshToken, .skipped, "ACR refresh token", "no Azure AD token"))
            return (soften(checks, standby), outcome)
        case .used?:
            if let token = resolution.azureADToken { checks.append(azureADCheck(token, into: &outcome)) }
            if used.kind == .servicePrincipalSecret {
                checks.append(check(.clientSecretExpiry, .ok, "Client secret", "Azure AD accepts AZURE_CLIENT_SECRET"))
            }
        default:
            break
        }
        for stage in [Resolution.Step.Stage.tenant, .exchange] {
            guard case .failed(let explanation)? = resolution.outcome(of: stage) else { continue }
            if case .failed(let error) = resolution.answer, let error = error as? ACRError {
                checks.append(exchangeFailure(error))
            } else {
                checks.append(check(.refreshToken, .error, "ACR refresh token", explanation.cause, fix: explanation.fix))
            }
            return (soften(checks, standby), outcome)
        }
        if case .derived(let token) = resolution.answer {
            outcome.refreshToken = token.token
            checks.append(check(
                .refreshToken, .ok, "ACR refresh token",
                "the registry exchanged the Azure AD token, \(Formatting.expiry(token.expiresOn, now: now)); "
                    + "the helper renews it \(Formatting.duration(token.expiresOn - configuration.refreshRule(for: server).renewal(of: token.token, expiresOn: token.expiresOn))) before it expires"))
        }
        return (soften(checks, standby), outcome)
    }

    private func azureADCheck(_ token: AzureADToken, into outcome: inout IdentityOutcome) -> Check {
        let claims = JWT(token.accessToken)
        let appID = claims?.string("appid") ?? claims?.string("azp")
        let user = claims?.string("upn") ?? claims?.string("unique_name")
        outcome.assignee = appID ?? claims?.string("oid") ?? user
        outcome.who = user.map { "the user \($0)" } ?? appID.map { "the identity with app id \($0)" } ?? "the Azure identity"
        let tenantText = (claims?.string("tid") ?? token.tenant).map { ", tenant \($0)" } ?? ""
        return check(.aadToken, .ok, "Azure AD token", "issued to \(outcome.who)\(tenantText), \(Formatting.expiry(token.expiresOn, now: now))")
    }

    /// While a stored credential is served, the identity only matters once it is gone or expired.
    private func soften(_ checks: [Check], _ standby: Bool) -> [Check] {
        guard standby else { return checks }
        return checks.map { check in
            guard check.status == .error else { return check }
            var softened = check
            softened.status = .warning
            softened.found += " (not in use now: Docker gets the stored credential)"
            return softened
        }
    }

    func exchangeFailure(_ error: ACRError) -> Check {
        switch error {
        case .firewall(_, let ip): firewall(ip: ip)
        case .unavailable(_, 429):
            check(.throttled, .error, "Throttling", "the registry's token service answered 429 Too Many Requests, retries included",
                  fix: "wait a minute and retry; spread out parallel logins")
        default:
            check(.refreshToken, .error, "ACR refresh token", error.cause, fix: error.fix)
        }
    }
}

/// Stands in for a store that could not be opened (the keyring checks say why): nothing stored, nothing
/// cached, so the walk goes on to the identities as it would once the store is fixed.
struct UnopenedStore: CredentialAndTokenStore {
    func credential(for server: ServerAddress) async throws -> Credential? { nil }
    func save(_ credential: Credential, for server: ServerAddress) throws {}
    func remove(_ server: ServerAddress) throws -> Bool { false }
    func allUsernames() throws -> [String: String] { [:] }
    func cachedToken(for key: TokenKey) throws -> CachedToken? { nil }
    func saveToken(_ token: CachedToken, for key: TokenKey) throws {}
    func removeTokens(_ selector: TokenSelector) throws {}
    func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] { [] }
    func checkWritable() throws {}
}
