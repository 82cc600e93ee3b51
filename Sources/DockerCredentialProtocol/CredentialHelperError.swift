/// Why an action failed. The description is the one line the helper prints on stdout.
///
/// Three descriptions are sentinels that docker/cli compares by exact text; the rest tell the user what
/// to do. None of them ever contains a secret.
public enum CredentialHelperError: Error, Equatable, Sendable, CustomStringConvertible {
    case credentialsNotFound
    case missingServerURL
    case missingUsername
    case missingSecret
    case invalidServerURL(ServerAddressError)
    case inputTooLarge(limit: Int)
    case inputNotUTF8
    case invalidJSON(String)
    case nulCharacter(field: String)

    public var description: String {
        switch self {
        case .credentialsNotFound: "credentials not found in native keychain"
        case .missingServerURL: "no credentials server URL"
        case .missingUsername: "no credentials username"
        case .missingSecret: "no credentials secret: the JSON on stdin must have a non-empty \"Secret\""
        case .invalidServerURL(let reason): reason.description
        case .inputTooLarge(let limit):
            "input too large: more than \(limit / 1024) KiB on stdin; a credential is a few KiB at most"
        case .inputNotUTF8: "invalid input: stdin is not valid UTF-8"
        case .invalidJSON(let reason):
            "invalid credentials JSON: \(reason); expected {\"ServerURL\":\"…\",\"Username\":\"…\",\"Secret\":\"…\"}"
        case .nulCharacter(let field): "invalid credentials JSON: \"\(field)\" contains a NUL character"
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
