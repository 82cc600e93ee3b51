import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// What the per-registry configuration may pin; nil fields fall back to the environment.
public struct IdentitySettings: Sendable, Equatable {
    public var kind: IdentityKind?
    public var tenant: String?
    public var clientID: String?

    public init(kind: IdentityKind? = nil, tenant: String? = nil, clientID: String? = nil) {
        self.kind = kind
        self.tenant = tenant
        self.clientID = clientID
    }
}

/// One identity source as the resolver saw it: `source` is set where it is set up here.
public struct IdentityCandidate: Sendable {
    public let kind: IdentityKind
    public let source: (any IdentitySource)?
    /// Why it is set up, or why not ("AZURE_CLIENT_SECRET is not set").
    public let reason: String
    /// The configuration file asks for this source: it is not skipped when it is not there.
    public let pinned: Bool

    public init(kind: IdentityKind, source: (any IdentitySource)?, reason: String, pinned: Bool) {
        self.kind = kind
        self.source = source
        self.reason = reason
        self.pinned = pinned
    }
}

/// Finds the identity sources from the Azure SDKs' standard variables, in the documented order (that of
/// the SDKs' DefaultAzureCredential, with the CI services' OIDC tokens after workload identity): service
/// principal with secret, with certificate, workload identity, GitHub Actions, Azure Pipelines, managed
/// identity, a person's `docker-credential-acr login`, Azure CLI. Which of them is used is the
/// resolution's decision (`CredentialResolver`): the first that is there, skipping those that are not.
public struct IdentityResolver {
    public let environment: [String: String]
    public let cloud: AzureCloud
    /// Whether this machine is an Azure VM, where IMDS answers; probing it elsewhere only costs time.
    public let isAzureVM: Bool
    /// Where `docker-credential-acr login` kept a sign-in; nil where no store is at hand.
    public let signIns: (any SignInKeeper)?
    /// Whether the Azure Arc agent is installed, which serves a managed identity without any variable;
    /// asked only when the walk reaches the managed identity, not on every `get`.
    public let hasArcAgent: @Sendable () -> Bool

    public init(
        environment: [String: String], cloud: AzureCloud, isAzureVM: Bool = IdentityResolver.detectAzureVM(),
        signIns: (any SignInKeeper)? = nil, hasArcAgent: @escaping @Sendable () -> Bool = { access(AzureArcKeyFile.agent, F_OK) == 0 }
    ) {
        self.environment = environment
        self.cloud = cloud
        self.isAzureVM = isAzureVM
        self.signIns = signIns
        self.hasArcAgent = hasArcAgent
    }

    public static let imdsVariable = "DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT"

    /// The sources to look at, in order: only the pinned one where the configuration pins one.
    public func order(_ settings: IdentitySettings = IdentitySettings()) -> [IdentityKind] {
        settings.kind.map { [$0] } ?? IdentityKind.allCases
    }

    /// Every source in `order`, each with what it would use or why it is not set up.
    public func candidates(_ settings: IdentitySettings = IdentitySettings()) throws(AzureIdentityError) -> [IdentityCandidate] {
        var found: [IdentityCandidate] = []
        for kind in order(settings) { found.append(try candidate(kind, settings)) }
        return found
    }

    /// One source: what it would use, or why it is not set up. Reads local files only (a sign-in in the
    /// store, `az`'s profile), and only for that source.
    public func candidate(_ kind: IdentityKind, _ settings: IdentitySettings) throws(AzureIdentityError) -> IdentityCandidate {
        let tenant = settings.tenant ?? value("AZURE_TENANT_ID")
        let clientID = settings.clientID ?? value("AZURE_CLIENT_ID")
        let authority = try authorityHost()
        let pinned = settings.kind != nil
        /// "A and B are not set", naming only the missing ones.
        func missing(_ names: [String]) -> String {
            let absent = names.filter { name in
                switch name {
                case "AZURE_TENANT_ID": tenant == nil
                case "AZURE_CLIENT_ID": clientID == nil
                default: value(name) == nil
                }
            }
            return absent.joined(separator: ", ") + (absent.count == 1 ? " is not set" : " are not set")
        }
        func use(_ source: any IdentitySource, _ reason: String) -> IdentityCandidate {
            IdentityCandidate(kind: kind, source: source, reason: reason, pinned: pinned)
        }
        func skip(_ reason: String) -> IdentityCandidate {
            IdentityCandidate(kind: kind, source: nil, reason: reason, pinned: pinned)
        }
        switch kind {
        case .servicePrincipalSecret, .servicePrincipalCertificate, .workloadIdentity:
            let variable = switch kind {
            case .servicePrincipalSecret: "AZURE_CLIENT_SECRET"
            case .servicePrincipalCertificate: "AZURE_CLIENT_CERTIFICATE_PATH"
            default: "AZURE_FEDERATED_TOKEN_FILE"
            }
            guard let tenant, let clientID, let given = value(variable) else {
                return skip(missing(["AZURE_TENANT_ID", "AZURE_CLIENT_ID", variable]))
            }
            let proof: ClientCredentialsSource.Proof = switch kind {
            case .servicePrincipalSecret: .secret(given)
            case .servicePrincipalCertificate:
                .certificate(path: given, password: value("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
                             sendChain: value("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN")?.lowercased() == "true")
            default: .federatedTokenFile(given)
            }
            return use(
                ClientCredentialsSource(tenantID: tenant, clientID: clientID, proof: proof, authorityHost: authority),
                "AZURE_TENANT_ID, AZURE_CLIENT_ID and \(variable) are set")
        case .githubActions:
            guard let url = value("ACTIONS_ID_TOKEN_REQUEST_URL"), let token = value("ACTIONS_ID_TOKEN_REQUEST_TOKEN") else {
                return skip(value("GITHUB_ACTIONS") == "true"
                    ? "ACTIONS_ID_TOKEN_REQUEST_URL is not set: the job lacks `permissions: id-token: write`"
                    : "not a GitHub Actions job (ACTIONS_ID_TOKEN_REQUEST_URL is not set)")
            }
            guard let tenant, let clientID else { return skip(missing(["AZURE_TENANT_ID", "AZURE_CLIENT_ID"])) }
            try EndpointPolicy.check(url, variable: "ACTIONS_ID_TOKEN_REQUEST_URL")
            return use(
                ClientCredentialsSource(
                    tenantID: tenant, clientID: clientID, proof: .ciFederatedToken(.githubActions(requestURL: url, requestToken: token)),
                    authorityHost: authority),
                "ACTIONS_ID_TOKEN_REQUEST_URL, AZURE_TENANT_ID and AZURE_CLIENT_ID are set")
        case .azurePipelines:
            return try azurePipelines(settings, authority: authority, pinned: pinned)
        case .managedIdentity:
            return try managedIdentity(clientID: clientID, pinned: pinned)
        case .signedInUser:
            if let signIn = try signIns?.signIn(authorityHost: authority) {
                return use(SignedInUserSource(signIn: signIn), "signed in as \(signIn.username) with `docker-credential-acr login`")
            }
            return skip("no sign-in (`docker-credential-acr login` makes one)")
        case .azureCLI:
            guard let az = ChildProcess.find("az", path: environment["PATH"]) else { return skip("`az` is not on PATH") }
            switch AzureCLIAccount.read(environment: environment) {
            case .success(let account):
                return use(
                    AzureCLISource(executable: az, tenantID: settings.tenant, account: account),
                    "`az` is at \(az), logged in as \(account.name)")
            case .failure(let notLoggedIn):
                return skip("`az` is not logged in (\(notLoggedIn.reason), `az login` logs it in)")
            }
        }
    }

    /// An AzureCLI@2 (or AzurePowerShell) task of a service connection with workload identity federation:
    /// the ids of the connection's app in `AZURESUBSCRIPTION_*`, else in the `AZURE_*` variables.
    private func azurePipelines(_ settings: IdentitySettings, authority: String, pinned: Bool) throws(AzureIdentityError) -> IdentityCandidate {
        let kind = IdentityKind.azurePipelines
        let needed = ["SYSTEM_OIDCREQUESTURI", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"]
        guard let uri = value(needed[0]), let connection = value(needed[1]) else {
            let absent = needed.filter { value($0) == nil }
            return IdentityCandidate(
                kind: kind, source: nil,
                reason: "not an Azure Pipelines task of a service connection (\(absent.joined(separator: " and ")) \(absent.count == 1 ? "is" : "are") not set)", pinned: pinned)
        }
        guard let tenant = settings.tenant ?? value("AZURESUBSCRIPTION_TENANT_ID") ?? value("AZURE_TENANT_ID"),
              let clientID = settings.clientID ?? value("AZURESUBSCRIPTION_CLIENT_ID") ?? value("AZURE_CLIENT_ID")
        else {
            return IdentityCandidate(
                kind: kind, source: nil,
                reason: "AZURESUBSCRIPTION_TENANT_ID and AZURESUBSCRIPTION_CLIENT_ID (or AZURE_TENANT_ID and AZURE_CLIENT_ID) are not set", pinned: pinned)
        }
        // The task is there; without the job's token it cannot ask for the OIDC token.
        guard let token = value("SYSTEM_ACCESSTOKEN") else {
            throw .incompleteSetup(
                kind, cause: "SYSTEM_ACCESSTOKEN is not set: a pipeline step does not get the job's access token unless it is mapped",
                fix: "map it in the step: `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`")
        }
        try EndpointPolicy.check(uri, variable: "SYSTEM_OIDCREQUESTURI")
        let source = ClientCredentialsSource(
            tenantID: tenant, clientID: clientID,
            proof: .ciFederatedToken(.azurePipelines(requestURI: uri, accessToken: token, serviceConnectionID: connection)),
            authorityHost: authority)
        return IdentityCandidate(kind: kind, source: source, reason: "SYSTEM_OIDCREQUESTURI and AZURESUBSCRIPTION_SERVICE_CONNECTION_ID are set", pinned: pinned)
    }

    /// The host's managed-identity endpoint, in MSAL's order of detection.
    private func managedIdentity(clientID: String?, pinned: Bool) throws(AzureIdentityError) -> IdentityCandidate {
        func use(_ endpoint: ManagedIdentitySource.Endpoint, _ reason: String) -> IdentityCandidate {
            IdentityCandidate(kind: .managedIdentity, source: ManagedIdentitySource(endpoint: endpoint, clientID: clientID), reason: reason, pinned: pinned)
        }
        let identityEndpoint = value("IDENTITY_ENDPOINT"), msiEndpoint = value("MSI_ENDPOINT")
        if let url = identityEndpoint, let header = value("IDENTITY_HEADER") {
            if let thumbprint = value("IDENTITY_SERVER_THUMBPRINT") {
                // Its certificate is pinned, never trusted over plain http.
                guard url.lowercased().hasPrefix("https://") else { throw .insecureEndpoint(variable: "IDENTITY_ENDPOINT", url: url) }
                return use(.serviceFabric(url: url, secret: header, thumbprint: thumbprint),
                           "IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT are set (Service Fabric)")
            }
            try EndpointPolicy.check(url, variable: "IDENTITY_ENDPOINT", allowLinkLocal: true)
            return use(.appService(url: url, header: header), "IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Container Apps, Functions, Automation)")
        }
        if let url = msiEndpoint {
            try EndpointPolicy.check(url, variable: "MSI_ENDPOINT", allowLinkLocal: true)
            if let secret = value("MSI_SECRET") {
                return use(.azureML(url: url, secret: secret, defaultClientID: value("DEFAULT_IDENTITY_CLIENT_ID")),
                           "MSI_ENDPOINT and MSI_SECRET are set (Azure Machine Learning)")
            }
            try noUserAssigned(clientID, host: "Cloud Shell")
            return use(.cloudShell(url: url), "MSI_ENDPOINT is set (Cloud Shell)")
        }
        if let url = identityEndpoint, value("IMDS_ENDPOINT") != nil {
            try EndpointPolicy.check(url, variable: "IDENTITY_ENDPOINT")
            try noUserAssigned(clientID, host: "Azure Arc")
            return use(.azureArc(url: url), "IDENTITY_ENDPOINT and IMDS_ENDPOINT are set (Azure Arc)")
        }
        if hasArcAgent() {
            try noUserAssigned(clientID, host: "Azure Arc")
            return use(.azureArc(url: ManagedIdentitySource.arcURL), "the Azure Arc agent is installed (\(AzureArcKeyFile.agent))")
        }
        if let url = value(Self.imdsVariable) {
            try EndpointPolicy.check(url, variable: Self.imdsVariable)
            return use(.imds(url: url), "\(Self.imdsVariable) is set")
        }
        if isAzureVM || pinned {
            return use(.imds(url: ManagedIdentitySource.imdsURL), isAzureVM ? "this machine is an Azure VM" : "the configuration file asks for it")
        }
        return IdentityCandidate(
            kind: .managedIdentity, source: nil,
            reason: "not an Azure VM, and none of IDENTITY_ENDPOINT, MSI_ENDPOINT or \(Self.imdsVariable) is set", pinned: pinned)
    }

    /// Cloud Shell and Arc have only the one identity, as MSAL holds: a client id is a mistake to report.
    private func noUserAssigned(_ clientID: String?, host: String) throws(AzureIdentityError) {
        guard clientID != nil else { return }
        throw .incompleteSetup(
            .managedIdentity, cause: "\(host) has only its own managed identity, but AZURE_CLIENT_ID asks for a user-assigned one",
            fix: "unset AZURE_CLIENT_ID (or the configuration's clientId) on \(host)")
    }

    /// `AZURE_AUTHORITY_HOST` (the workload-identity webhook sets it, with a trailing slash), else the cloud's.
    public func authorityHost() throws(AzureIdentityError) -> String {
        guard let host = value("AZURE_AUTHORITY_HOST") else { return cloud.authorityHost }
        try EndpointPolicy.check(host, variable: "AZURE_AUTHORITY_HOST")
        return host.hasSuffix("/") ? host : host + "/"
    }

    private func value(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// Azure stamps every VM with this chassis asset tag.
    public static func detectAzureVM() -> Bool {
        guard let bytes = try? FileDescriptorReader.contents(of: "/sys/class/dmi/id/chassis_asset_tag", limit: 256) else { return false }
        return String(decoding: bytes, as: UTF8.self).hasPrefix("7783-7084-3265-9085-8269-3286-77")
    }
}

/// Overridden endpoints must use https, except on the loopback interface (tests, local proxies), and
/// the link-local managed-identity endpoints that Azure itself serves over plain http.
public enum EndpointPolicy {
    public static func check(_ url: String, variable: String, allowLinkLocal: Bool = false) throws(AzureIdentityError) {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { return }
        guard lower.hasPrefix("http://") else { throw .insecureEndpoint(variable: variable, url: url) }
        let authority = lower.dropFirst(7).prefix { $0 != "/" && $0 != "?" }
        let host = authority.hasPrefix("[") ? String(authority.prefix { $0 != "]" }) + "]"
            : String(authority.prefix { $0 != ":" })
        let isIPv4 = host.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        let loopback = host == "localhost" || host == "[::1]" || (isIPv4 && host.hasPrefix("127."))
        let linkLocal = isIPv4 && host.hasPrefix("169.254.")
        guard loopback || (allowLinkLocal && linkLocal) else { throw .insecureEndpoint(variable: variable, url: url) }
    }
}
