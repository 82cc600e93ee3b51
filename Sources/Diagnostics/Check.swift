/// One finding of `diagnose`: what was checked, what was found, and what to do about it.
public struct Check: Sendable, Equatable {
    public enum Status: String, Sendable, Comparable {
        case ok, warning, error, skipped

        private var rank: Int { [.skipped: 0, .ok: 1, .warning: 2, .error: 3][self]! }
        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    /// The causes of a failed login, as Azure's troubleshooting guide groups them.
    public enum Group: String, Sendable, CaseIterable {
        case docker = "Docker configuration"
        case registryName = "Registry name"
        case credentialsValid = "Credentials valid"
        case credentialsAuthorized = "Credentials authorized"
        case credentialsExpiry = "Credentials expiry"
        case network = "Network"
        case keyring = "Keyring"
    }

    public var code: CheckCode
    public var status: Status
    /// The login server the check is about; nil for the machine as a whole.
    public var registry: String?
    /// What was looked at, in a few words.
    public var title: String
    /// What was found. Never a secret: tokens appear as their claims and expiry only.
    public var found: String
    /// What to do, for a warning or an error.
    public var fix: String?

    public init(_ code: CheckCode, _ status: Status, registry: String? = nil, title: String, found: String, fix: String? = nil) {
        self.code = code
        self.status = status
        self.registry = registry
        self.title = title
        self.found = found
        self.fix = fix
    }

    public var group: Group { code.group }
}

/// Stable identifiers of the checks. Where `az acr check-health` has a code for the same cause, it is
/// the same name, so that people and scripts that know one know the other.
public enum CheckCode: String, Sendable, CaseIterable {
    case dockerCommand = "DOCKER_COMMAND_ERROR"
    case dockerVersion = "DOCKER_VERSION_ERROR"
    case dockerDaemon = "DOCKER_DAEMON_ERROR"
    case dockerConfig = "DOCKER_CONFIG_ERROR"
    case helperConfig = "HELPER_CONFIG_ERROR"
    case helperPath = "HELPER_PATH_ERROR"
    case helperShadowed = "HELPER_SHADOWED_ERROR"
    case helperConfigFile = "HELPER_CONFIG_FILE_ERROR"

    case loginServer = "LOGIN_SERVER_ERROR"
    case dns = "CONNECTIVITY_DNS_ERROR"
    case tls = "CONNECTIVITY_SSL_ERROR"
    case challenge = "CONNECTIVITY_CHALLENGE_ERROR"
    case aadLogin = "CONNECTIVITY_AAD_LOGIN_ERROR"
    case wwwAuthenticate = "CONNECTIVITY_WWW_AUTHENTICATE_ERROR"

    case identitySource = "IDENTITY_SOURCE_ERROR"
    case aadToken = "AAD_TOKEN_ERROR"
    case exposedTokenUser = "EXPOSED_TOKEN_USER_ERROR"
    case storedCredential = "STORED_CREDENTIAL_ERROR"

    case refreshToken = "CONNECTIVITY_REFRESH_TOKEN_ERROR"
    case accessToken = "CONNECTIVITY_ACCESS_TOKEN_ERROR"
    case roleAssignment = "ROLE_ASSIGNMENT_ERROR"

    case tokenExpiry = "TOKEN_EXPIRY_ERROR"
    case clientSecretExpiry = "CLIENT_SECRET_EXPIRED_ERROR"

    case forbidden = "CONNECTIVITY_FORBIDDEN_ERROR"
    case throttled = "CONNECTIVITY_THROTTLED_ERROR"
    case proxy = "PROXY_CONFIGURATION_ERROR"

    case credentialStore = "CREDENTIAL_STORE_ERROR"
    case keyringLocked = "KEYRING_LOCKED_ERROR"

    public var group: Check.Group {
        switch self {
        case .dockerCommand, .dockerVersion, .dockerDaemon, .dockerConfig, .helperConfig, .helperPath, .helperShadowed,
             .helperConfigFile:
            .docker
        case .loginServer, .dns, .tls, .challenge, .aadLogin, .wwwAuthenticate: .registryName
        case .identitySource, .aadToken, .exposedTokenUser, .storedCredential: .credentialsValid
        case .refreshToken, .accessToken, .roleAssignment: .credentialsAuthorized
        case .tokenExpiry, .clientSecretExpiry: .credentialsExpiry
        case .forbidden, .throttled, .proxy: .network
        case .credentialStore, .keyringLocked: .keyring
        }
    }
}
