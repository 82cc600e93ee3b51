import ErrorExplanation
/// Why an action failed. The description (cause, then fix) is the one line the helper prints on stdout.
///
/// Three descriptions are sentinels that docker/cli compares by exact text; the rest tell the user what
/// to do. None of them ever contains a secret.
public enum CredentialHelperError: ExplainedError, Equatable, Sendable {
    case credentialsNotFound
    case missingServerURL
    case missingUsername
    case missingSecret
    case invalidServerURL(ServerAddressError)
    case inputTooLarge(limit: Int)
    case inputNotUTF8
    case invalidJSON(String)
    case nulCharacter(field: String)

    public var cause: String {
        switch self {
        case .credentialsNotFound: "credentials not found in native keychain"
        case .missingServerURL: "no credentials server URL"
        case .missingUsername: "no credentials username"
        case .missingSecret: "no credentials secret: the JSON on stdin must have a non-empty \"Secret\""
        case .invalidServerURL(let reason): reason.cause
        case .inputTooLarge(let limit): "input too large: more than \(limit / 1024) KiB on stdin"
        case .inputNotUTF8: "invalid input: stdin is not valid UTF-8"
        case .invalidJSON(let reason): "invalid credentials JSON: \(reason)"
        case .nulCharacter(let field): "invalid credentials JSON: \"\(field)\" contains a NUL character"
        }
    }

    public var fix: String? {
        switch self {
        case .invalidServerURL(let reason): reason.fix
        case .inputTooLarge: "a credential is a few KiB at most"
        case .invalidJSON: "expected {\"ServerURL\":\"…\",\"Username\":\"…\",\"Secret\":\"…\"}"
        default: nil
        }
    }

    /// Docker recognises these by their exact text; they are answers, not failures to report.
    public var isSentinel: Bool {
        switch self {
        case .credentialsNotFound, .missingServerURL, .missingUsername: true
        default: false
        }
    }
}
