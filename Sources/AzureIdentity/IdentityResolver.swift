import SystemIO

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

/// One identity source as the resolver saw it: `source` is set for the one that is used.
public struct IdentityCandidate: Sendable {
    public let kind: IdentityKind
    public let source: (any IdentitySource)?
    /// Why it is used, or why not ("AZURE_CLIENT_SECRET is not set").
    public let reason: String
}

/// Picks the identity source from the Azure SDKs' standard variables, in the documented order (that of
/// the SDKs' DefaultAzureCredential): service principal with secret, with certificate, workload identity,
/// managed identity, a person's `docker-credential-acr login`, Azure CLI.
/// The first one that is configured is used; one that is configured but fails is reported, never
/// silently skipped, so the user learns what is wrong with the identity they meant.
public struct IdentityResolver {
    public let environment: [String: String]
    public let cloud: AzureCloud
    /// Whether this machine is an Azure VM, where IMDS answers; probing it elsewhere only costs time.
    public let isAzureVM: Bool
    /// Where `docker-credential-acr login` kept a sign-in; nil where no store is at hand.
    public let signIns: (any SignInKeeper)?

    public init(
        environment: [String: String], cloud: AzureCloud, isAzureVM: Bool = IdentityResolver.detectAzureVM(),
        signIns: (any SignInKeeper)? = nil
    ) {
        self.environment = environment
        self.cloud = cloud
        self.isAzureVM = isAzureVM
        self.signIns = signIns
    }

    public static let imdsVariable = "DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT"

    /// The source to use, or nil when none is configured.
    public func source(_ settings: IdentitySettings = IdentitySettings()) throws(AzureIdentityError) -> (any IdentitySource)? {
        try candidates(settings).last?.source
    }

    /// The sources looked at, in order, up to and including the one that is used: each with why it is
    /// used or why not, for `diagnose`.
    public func candidates(_ settings: IdentitySettings = IdentitySettings()) throws(AzureIdentityError) -> [IdentityCandidate] {
        let tenant = settings.tenant ?? value("AZURE_TENANT_ID")
        let clientID = settings.clientID ?? value("AZURE_CLIENT_ID")
        let authority = try authorityHost()
        var looked: [IdentityCandidate] = []
        func skip(_ kind: IdentityKind, _ reason: String) { looked.append(IdentityCandidate(kind: kind, source: nil, reason: reason)) }
        func use(_ source: any IdentitySource, _ reason: String) -> [IdentityCandidate] {
            looked + [IdentityCandidate(kind: source.kind, source: source, reason: reason)]
        }
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
        let candidates: [IdentityKind] = settings.kind.map { [$0] } ?? IdentityKind.allCases
        for kind in candidates {
            switch kind {
            case .servicePrincipalSecret, .servicePrincipalCertificate, .workloadIdentity:
                let variable = switch kind {
                case .servicePrincipalSecret: "AZURE_CLIENT_SECRET"
                case .servicePrincipalCertificate: "AZURE_CLIENT_CERTIFICATE_PATH"
                default: "AZURE_FEDERATED_TOKEN_FILE"
                }
                guard let tenant, let clientID, let given = value(variable) else {
                    skip(kind, missing(["AZURE_TENANT_ID", "AZURE_CLIENT_ID", variable]))
                    continue
                }
                let proof: ClientCredentialsSource.Proof = switch kind {
                case .servicePrincipalSecret: .secret(given)
                case .servicePrincipalCertificate: .certificate(path: given, password: value("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
                default: .federatedTokenFile(given)
                }
                return use(
                    ClientCredentialsSource(tenantID: tenant, clientID: clientID, proof: proof, authorityHost: authority),
                    "AZURE_TENANT_ID, AZURE_CLIENT_ID and \(variable) are set")
            case .managedIdentity:
                if let url = value("IDENTITY_ENDPOINT"), let header = value("IDENTITY_HEADER") {
                    try EndpointPolicy.check(url, variable: "IDENTITY_ENDPOINT", allowLinkLocal: true)
                    return use(
                        ManagedIdentitySource(endpoint: .appService(url: url, header: header), clientID: clientID),
                        "IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Container Apps, Functions)")
                }
                if let url = value(Self.imdsVariable) {
                    try EndpointPolicy.check(url, variable: Self.imdsVariable)
                    return use(
                        ManagedIdentitySource(endpoint: .imds(url: url), clientID: clientID), "\(Self.imdsVariable) is set")
                }
                if isAzureVM || settings.kind == .managedIdentity {
                    return use(
                        ManagedIdentitySource(endpoint: .imds(url: ManagedIdentitySource.imdsURL), clientID: clientID),
                        isAzureVM ? "this machine is an Azure VM" : "the configuration file asks for it")
                }
                skip(kind, "not an Azure VM, and neither IDENTITY_ENDPOINT nor \(Self.imdsVariable) is set")
            case .signedInUser:
                if let signIn = try signIns?.signIn(authorityHost: authority) {
                    return use(SignedInUserSource(signIn: signIn), "signed in as \(signIn.username) with `docker-credential-acr login`")
                }
                skip(kind, "no sign-in; `docker-credential-acr login` makes one")
            case .azureCLI:
                if let az = ChildProcess.find("az", path: environment["PATH"]) {
                    return use(AzureCLISource(executable: az, tenantID: settings.tenant), "`az` is at \(az)")
                }
                skip(kind, "`az` is not on PATH")
            }
        }
        return looked
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
