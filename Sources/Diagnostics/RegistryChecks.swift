import ACRTokenExchange
import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import FoundationEssentials
import HTTPTransport
import Logging

/// The checks of one ACR login server, in the order a login goes: reach the registry, find the
/// credential Docker would get, prove it to Azure AD and the registry, and see what it may do.
/// Nothing is written to the stores: every token here is fetched live and thrown away.
struct RegistryChecks {
    let server: LoginServer
    let tools: Diagnostician
    let store: (any CredentialAndTokenStore)?
    let pull: String?
    let push: String?

    var name: String { server.name }
    var configuration: ACRConfiguration { tools.configuration }
    private var baseURL: String { configuration.baseURL(for: server) }
    var now: Int64 { tools.now() }

    func check(_ code: CheckCode, _ status: Check.Status, _ title: String, _ found: String, fix: String? = nil) -> Check {
        Check(code, status, registry: name, title: title, found: found, fix: fix)
    }

    private func context() -> IdentityContext {
        IdentityContext(connection: tools.connection, budget: RequestBudget(total: configuration.timeout), now: tools.now)
    }

    /// The walk `get` takes, live and writing nothing.
    private var resolver: CredentialResolver {
        CredentialResolver(
            store: store ?? UnopenedStore(), configuration: configuration, environment: tools.environment,
            connection: tools.connection, now: tools.now, isAzureVM: tools.isAzureVM, policy: .probing,
            logger: Logger(label: "diagnose") { _ in SwiftLogNoOpLogHandler() })
    }

    func run() async -> [Check] {
        var checks: [Check] = [await proxy()]
        let reachable = await connectivity(into: &checks)
        let exchange = TokenExchange(server: server, baseURL: baseURL)
        // A probing resolver has its connection: it never needs the engine.
        guard let resolution = try? await resolver.resolve(server, storedAt: ServerAddress(name)) else { return checks }

        var served: Credential?
        if case .stored(let stored) = resolution.answer {
            served = stored
            checks += exposedTokenUser(stored)
            checks.append(await storedCredential(stored, reachable: reachable, exchange: exchange))
        }
        checks += storedChecks(resolution)
        // While a stored credential is served, the same walk from the identities on says what comes after it.
        let identityWalk = served == nil ? resolution : (try? await resolver.resolve(server, storedAt: nil)) ?? resolution
        let (identityFound, identity) = identityChecks(identityWalk, standby: served != nil)
        checks += identityFound

        // What Docker would present, and what it may do with it.
        let presented = served.map(Self.authentication) ?? identity.refreshToken.map(RegistryAuthentication.refreshToken)
        if reachable, let presented {
            let who = served.map { "the stored credential (user \($0.username))" } ?? identity.who
            checks += await access(presenting: presented, who: who, assignee: served == nil ? identity.assignee : nil, exchange: exchange)
        } else if reachable, !identity.configured, let pull {
            checks += await anonymousPull(pull, exchange: exchange)
        } else {
            checks.append(check(.accessToken, .skipped, "Access token", "no ACR token to ask with"))
        }
        let storedToken = (served ?? resolution.expiredStored).flatMap { stored in
            JWT(stored.secret)?.expiresOn.map { (username: stored.username, expiresOn: $0) }
        }
        checks += expiry(storedToken: storedToken, identityConfigured: identity.configured)
        return checks
    }

    // MARK: - Network and registry name

    /// The proxy each endpoint of this registry's login goes through, as the transport decides it, and whether
    /// the proxy opens a tunnel (CONNECT) to it; the checks after this one then go the same way.
    private func proxy() async -> Check {
        let proxies: ProxySettings
        do {
            proxies = try ProxySettings(environment: tools.environment, configured: configuration.proxy)
        } catch {
            return check(.proxy, .error, "Proxy", error.cause, fix: error.fix)
        }
        let names = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
        var set = names.compactMap { name in tools.environment[name].flatMap { $0.isEmpty ? nil : "\(name)=\(ProxyServer.redacting($0))" } }
        let configured = configuration.proxy
        if configured.https != nil || configured.http != nil { set.append("the configuration file's proxy") }
        guard proxies.httpsProxy != nil || proxies.httpProxy != nil else {
            return check(.proxy, .ok, "Proxy", "no proxy is set: every request goes directly")
        }
        let authority = (try? IdentityResolver(environment: tools.environment, cloud: server.cloud).authorityHost()) ?? server.cloud.authorityHost
        var routes: [String] = []
        for url in [baseURL, authority] {
            let origin = HTTPRequest.origin(of: url)
            guard let via = proxies.proxy(for: url) else { routes.append(origin + " directly"); continue }
            if let refusal = await tunnelRefusal(to: origin) {
                return check(.proxy, .error, "Proxy", set.joined(separator: ", ") + ": " + refusal.cause, fix: refusal.fix)
            }
            routes.append("\(origin) through \(via) (\(origin.hasPrefix("https:") ? "CONNECT opened" : "forwarded"))")
        }
        return check(.proxy, .ok, "Proxy", set.joined(separator: ", ") + ": " + routes.joined(separator: ", ")
                     + " (loopback, link-local and NO_PROXY hosts go directly)")
    }

    /// Asks for `origin`'s root through its proxy: any answer, and any failure past the tunnel (TLS, a
    /// redirect), means the proxy took the request; the TLS and challenge checks tell the rest.
    private func tunnelRefusal(to origin: String) async -> HTTPTransportError? {
        do {
            _ = try await tools.connection.transport.send(HTTPRequest(method: .get, url: origin + "/"), timeout: .seconds(5))
            return nil
        } catch {
            switch error {
            case .proxyRefused, .unusableProxy, .timedOut: return error
            default: return nil
            }
        }
    }

    /// The CA certificates the transport trusts, as it reads them (`TrustSettings`).
    private var trustedCAs: String {
        var extra = ["SSL_CERT_FILE", "SSL_CERT_DIR"].compactMap { name in
            tools.environment[name].flatMap { $0.isEmpty ? nil : "\(name)=\($0)" }
        }
        if let bundle = configuration.caBundle { extra.append("the configuration file's caBundle \(bundle)") }
        return "the system's CAs" + (extra.isEmpty ? "" : " and " + extra.joined(separator: ", "))
    }

    /// DNS, TLS and `GET /v2/`; returns whether the registry answered at all.
    private func connectivity(into checks: inout [Check]) async -> Bool {
        let host = HostLookup.host(of: baseURL)
        switch HostLookup.addresses(of: host) {
        case .success(let addresses):
            checks.append(check(.dns, .ok, "DNS", "\(host) resolves to \(addresses.prefix(3).joined(separator: ", "))"))
        case .failure(let failure):
            checks.append(check(
                .dns, .error, "DNS", "\(host) does not resolve (\(failure.reason))",
                fix: "check the registry's name; behind a private endpoint, check that this machine uses the private DNS zone privatelink\(server.cloud == .azurePublic ? ".azurecr.io" : " zone of the registry")"))
            for (code, title) in [(CheckCode.tls, "TLS"), (.challenge, "Registry challenge")] {
                checks.append(check(code, .skipped, title, "the name does not resolve"))
            }
            return false
        }
        let isTLS = baseURL.lowercased().hasPrefix("https://")
        let response: HTTPResponse
        do {
            response = try await tools.connection.transport.send(HTTPRequest(method: .get, url: baseURL + "/v2/"), timeout: .seconds(10))
        } catch {
            if case .tlsFailed(let host, let reason) = error {
                checks.append(check(
                    .tls, .error, "TLS", "the TLS handshake with \(host) failed (\(reason)), trusting \(trustedCAs)",
                    fix: "a proxy or firewall that inspects TLS may be in the way: add its CA to the system trust store, or let \(name) through"))
                checks.append(check(.challenge, .skipped, "Registry challenge", "no TLS connection"))
            } else {
                checks.append(check(.tls, .skipped, "TLS", "no connection"))
                checks.append(check(
                    .challenge, .error, "Registry challenge", "no answer to GET /v2/: \(error)",
                    fix: "check that this machine may reach \(host) on port 443 (firewall, network security group, private endpoint)"))
            }
            return false
        }
        checks.append(isTLS
            ? check(.tls, .ok, "TLS", "the TLS handshake with \(host) succeeded, trusting \(trustedCAs)")
            : check(.tls, .skipped, "TLS", "\(baseURL) is plain http (an endpoint override on this machine)"))
        let body = response.body
        switch response.status {
        case 401:
            checks.append(challenge(response.header("WWW-Authenticate")))
        case 403:
            let ip = RegistryErrors.firewallIP(in: Data(body))
            checks.append(firewall(ip: ip))
            checks.append(check(.challenge, .skipped, "Registry challenge", "the registry's firewall answered"))
            return true
        case 429:
            checks.append(check(.throttled, .warning, "Throttling", "GET /v2/ answered 429 Too Many Requests",
                                fix: "the registry is throttling this client: wait a minute and retry; spread out parallel pulls"))
            checks.append(check(.challenge, .skipped, "Registry challenge", "throttled"))
            return true
        case 404:
            checks.append(check(.challenge, .error, "Registry challenge", "no registry answers as \(name) (HTTP 404)",
                                fix: "check the login server's name in the Azure portal"))
            return false
        case 200:
            checks.append(check(.challenge, .warning, "Registry challenge", "GET /v2/ answered 200 without asking for credentials",
                                fix: "this is not how ACR answers; check that \(host) is the registry and not a proxy or mirror"))
        default:
            checks.append(check(.challenge, .error, "Registry challenge", "GET /v2/ answered HTTP \(response.status), not 401",
                                fix: "retry later; if it persists, check https://status.azure.com and the registry's network rules"))
        }
        checks.append(check(.forbidden, .ok, "Firewall", "the registry lets this machine in"))
        checks.append(check(.throttled, .ok, "Throttling", "not throttled"))
        return true
    }

    private func challenge(_ header: String?) -> Check {
        let title = "Registry challenge"
        guard let header, let challenge = BearerChallenge(header) else {
            return check(.challenge, .error, title, "GET /v2/ answered 401 without a WWW-Authenticate challenge",
                         fix: "something other than ACR answers for \(name); check proxies and the login server's name")
        }
        guard challenge.isBearer else {
            return check(.aadLogin, .error, title,
                         "the challenge is \(challenge.scheme), not Bearer: this registry does not take Azure AD tokens",
                         fix: "check that \(name) is an Azure Container Registry; use its admin user or a token with `docker login -u`")
        }
        let expectedRealm = baseURL + "/oauth2/token"
        guard let realm = challenge.realm.map(ServerText.clean), let service = challenge.service.map(ServerText.clean) else {
            return check(.wwwAuthenticate, .error, title, "the Bearer challenge lacks a realm or a service: \(ServerText.clean(header))",
                         fix: "something between this machine and \(name) rewrites the registry's answers; check proxies")
        }
        guard realm == expectedRealm, service == name else {
            return check(.wwwAuthenticate, .warning, title,
                         "the challenge names realm \(realm) and service \(service); expected \(expectedRealm) and \(name)",
                         fix: "check that \(name) is the login server and that no proxy rewrites the registry's answers")
        }
        return check(.challenge, .ok, title, "401 with Bearer realm=\(realm), service=\(service)")
    }

    func firewall(ip: String?) -> Check {
        check(.forbidden, .error, "Firewall",
              "the registry's firewall refuses this machine" + (ip.map { " (client IP \($0))" } ?? ""),
              fix: "add \(ip ?? "this machine's public IP") to the registry's network rules "
                + "(az acr network-rule add --name \(server.name.split(separator: ".")[0]) --ip-address \(ip ?? "<IP>")), "
                + "or reach it through a private endpoint; see https://aka.ms/acr/firewall")
    }

    // MARK: - Stored credential

    func exposedTokenUser(_ stored: Credential) -> [Check] {
        guard ExposedToken.isACRRefreshToken(stored.secret) else { return [] }
        let title = "User of the stored token"
        if stored.username == LoginServer.tokenUsername || stored.username == Credential.identityTokenUsername {
            return [check(.exposedTokenUser, .ok, title, "the stored ACR token is stored under \(stored.username)")]
        }
        return [check(.exposedTokenUser, .error, title,
                      "an ACR token is stored under the user \(stored.username); ACR accepts it only with \(LoginServer.tokenUsername)",
                      fix: "store it again through this helper, which fixes the user: "
                        + "docker login \(name) -u \(LoginServer.tokenUsername) --password-stdin, or `docker-credential-acr import`")]
    }

    /// How Docker presents a stored credential: an identity token (user `<token>`) as a refresh token,
    /// anything else as Basic auth.
    static func authentication(for stored: Credential) -> RegistryAuthentication {
        stored.username == Credential.identityTokenUsername
            ? .refreshToken(stored.secret) : .basic(username: stored.username, password: stored.secret)
    }

    /// Whether the registry accepts the credential that `get` answers from the store.
    private func storedCredential(_ stored: Credential, reachable: Bool, exchange: TokenExchange) async -> Check {
        let title = "Stored credential"
        guard reachable else { return check(.storedCredential, .skipped, title, "the registry is not reachable") }
        do {
            _ = try await exchange.accessToken(scope: validationScope, presenting: Self.authentication(for: stored), context: context())
            return check(.storedCredential, .ok, title, "Docker gets the stored credential of user \(stored.username), and the registry accepts it")
        } catch {
            guard case .accessTokenRefused(_, let status, let message) = error else {
                return check(.storedCredential, .error, title, "cannot check it: \(error.cause)", fix: error.fix)
            }
            let anonymous = (try? await exchange.accessToken(
                scope: "repository:\(pull ?? "library/hello-world"):pull", presenting: .anonymous, context: context()))
                .map { !$0.actions(type: "repository", name: pull ?? "library/hello-world").isEmpty } ?? false
            return check(
                .storedCredential, .error, title,
                "Docker gets the stored credential of user \(stored.username), and the registry rejects it (HTTP \(status): \(message)); "
                    + (anonymous ? "it blocks the anonymous pull this registry allows" : "every pull and push fails with `unauthorized`"),
                fix: "forget it: docker logout \(name) (the helper then derives tokens from the Azure identity"
                    + (anonymous ? ", or pulls go anonymous" : "") + ")")
        }
    }

    private var validationScope: String {
        if let repository = pull ?? push { return "repository:\(repository):pull" }
        return "registry:catalog:*"
    }

    // MARK: - Authorization

    /// Without any credential, Docker pulls anonymously: that works only where the registry allows it.
    private func anonymousPull(_ repository: String, exchange: TokenExchange) async -> [Check] {
        let scope = "repository:\(repository):pull"
        let grant = try? await exchange.accessToken(scope: scope, presenting: .anonymous, context: context())
        guard let grant, grant.actions(type: "repository", name: repository).contains("pull") else {
            return [check(.accessToken, .skipped, "Access token", "anonymous pull of \(repository) is not allowed either")]
        }
        return [check(.accessToken, .ok, "Access token", "anonymous pull of \(repository) is allowed (Docker needs no credential for it)")]
    }

    private func access(
        presenting authentication: RegistryAuthentication, who: String, assignee: String?, exchange: TokenExchange
    ) async -> [Check] {
        var wanted: [(type: String, name: String, actions: [String])] = []
        if let pull { wanted.append(("repository", pull, ["pull"])) }
        if let push { wanted.append(("repository", push, ["pull", "push"])) }
        if wanted.isEmpty { wanted.append(("registry", "catalog", ["*"])) }
        let registryName = name.split(separator: ".")[0]
        var checks: [Check] = []
        for scope in wanted {
            let text = "\(scope.type):\(scope.name):\(scope.actions.joined(separator: ","))"
            let grant: AccessGrant
            do {
                grant = try await exchange.accessToken(scope: text, presenting: authentication, context: context())
            } catch {
                checks.append(check(.accessToken, .error, "Access token", "for \(text): \(error.cause)", fix: error.fix))
                continue
            }
            let expiry = grant.expiresOn.map { ", " + Formatting.expiry($0, now: now) } ?? ""
            checks.append(check(.accessToken, .ok, "Access token", "\(who) got an access token for \(text)\(expiry)"))
            let granted = grant.actions(type: scope.type, name: scope.name)
            let missing = scope.actions.filter { !granted.contains($0) && !granted.contains("*") }
            if missing.isEmpty {
                let what = scope.type == "registry" ? "list the catalog" : "\(scope.actions.joined(separator: " and ")) \(scope.name)"
                checks.append(check(.roleAssignment, .ok, "Permissions", "\(who) may \(what)"))
                continue
            }
            let role = missing.contains("push") ? "AcrPush" : "AcrPull"
            let grantedText = granted.isEmpty ? "nothing" : granted.joined(separator: ", ")
            let assignment = "az role assignment create --assignee \(assignee ?? "<app id>") --role \(role) "
                + "--scope $(az acr show --name \(registryName) --query id --output tsv)"
            let fix = assignee == nil
                ? "give \(who) the \(role) role (or a repository-scoped token that allows \(missing.joined(separator: ","))), or `docker logout \(name)` to use the Azure identity instead"
                : "\(assignment); new role assignments take up to 10 minutes to reach the registry"
            if scope.type == "registry" {
                checks.append(check(.roleAssignment, .warning, "Permissions",
                                    "\(who) has no role on \(name) (the catalog is not granted)", fix: fix))
            } else {
                checks.append(check(.roleAssignment, .error, "Permissions",
                                    "\(who) may not \(missing.joined(separator: " or ")) \(scope.name): the registry granted \(grantedText); the \(role) role is missing",
                                    fix: fix))
            }
        }
        return checks
    }

    // MARK: - Expiry

    private func expiry(storedToken: (username: String, expiresOn: Int64)?, identityConfigured: Bool) -> [Check] {
        var checks: [Check] = []
        let title = "Token expiry"
        let registryName = name.split(separator: ".")[0]
        if let storedToken {
            let when = Formatting.expiry(storedToken.expiresOn, now: now)
            if storedToken.expiresOn > now {
                checks.append(check(.tokenExpiry, .ok, title, "stored token (user \(storedToken.username)): \(when)"))
            } else if identityConfigured {
                checks.append(check(.tokenExpiry, .warning, title,
                                    "stored token (user \(storedToken.username)): \(when); the helper derives new tokens from the Azure identity instead",
                                    fix: "remove it: docker logout \(name)"))
            } else {
                checks.append(check(.tokenExpiry, .error, title,
                                    "stored token (user \(storedToken.username)): \(when), and no Azure identity is configured to renew it",
                                    fix: "log in again (az acr login --name \(registryName) --expose-token | docker-credential-acr import), or configure an Azure identity"))
            }
        }
        let cached = (try? store?.allCachedTokens()) ?? []
        for (key, token) in cached {
            let what: String
            switch key.kind {
            case .acrRefreshToken where key.scope == name: what = "cached ACR refresh token"
            case .azureADToken where key.scope.hasPrefix(server.cloud.name + " "): what = "cached Azure AD token"
            default: continue
            }
            let rule = key.kind == .acrRefreshToken ? configuration.refreshRule(for: server) : CredentialResolver.azureADRule
            let renewal = rule.verdict(token, now: now) == .fresh ? "" : "; replaced at the next login"
            checks.append(check(.tokenExpiry, .ok, title,
                                "\(what) (\(key.identity)): \(Formatting.expiry(token.expiresOn, now: now))\(renewal)"))
        }
        if checks.isEmpty {
            checks.append(check(.tokenExpiry, .skipped, title, "no stored or cached tokens for \(name)"))
        }
        return checks
    }
}
