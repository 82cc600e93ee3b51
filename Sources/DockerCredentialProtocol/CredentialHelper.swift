import FoundationEssentials
import JSONInput

/// Runs the actions of Docker's credential-helper protocol against a store: parses the input Docker
/// sends, answers in the bytes it expects.
///
/// Input is checked completely before the store is opened, so bad input can never reach a store.
public struct CredentialHelper {
    /// Docker sends a few KiB at most; refuse more instead of buffering whatever arrives.
    public static let maximumInputBytes = 1 << 20

    private let openStore: () throws -> any CredentialStore

    /// `openStore` is called only by actions that need a store, and at most once per action.
    public init(openStore: @escaping () throws -> any CredentialStore) {
        self.openStore = openStore
    }

    public func store(input: [UInt8]) throws {
        let credential = try Self.parseCredential(input)
        let server = try Self.address(credential.serverURL)
        try openStore().save(credential, for: server)
    }

    public func get(input: [UInt8]) async throws -> String {
        let server = try Self.address(try Self.text(input))
        guard let found = try await openStore().credential(for: server) else {
            throw CredentialHelperError.credentialsNotFound
        }
        return GoJSON.object([
            ("ServerURL", server.original), ("Username", found.username), ("Secret", found.secret),
        ])
    }

    /// Erasing what is not there succeeds, as in Docker's own Secret Service helper: podman 4.3 crashes
    /// on a second `podman logout` when a helper answers "not found" instead.
    public func erase(input: [UInt8]) throws {
        _ = try openStore().remove(Self.address(try Self.text(input)))
    }

    public func list() throws -> String {
        GoJSON.sortedObject(try openStore().allUsernames())
    }

    public static func version(name: String, version: String) -> String {
        "\(name) (\(name)) \(version)\n"
    }

    // MARK: - Input

    /// A server URL on stdin, as `get` and `erase` take it.
    static func text(_ input: [UInt8]) throws(CredentialHelperError) -> String {
        let text = try utf8(input)
        guard !text.contains("\0") else { throw .invalidServerURL(.invalidCharacter) }
        return text
    }

    private static func utf8(_ input: [UInt8]) throws(CredentialHelperError) -> String {
        guard input.count <= maximumInputBytes else { throw .inputTooLarge(limit: maximumInputBytes) }
        guard let text = String(validating: input, as: UTF8.self) else { throw .inputNotUTF8 }
        return text
    }

    static func address(_ text: String) throws(CredentialHelperError) -> ServerAddress {
        do {
            return try ServerAddress(text)
        } catch .empty {
            throw .missingServerURL
        } catch {
            throw .invalidServerURL(error)
        }
    }

    /// The fields of a `store` request. Optional so that a missing or null field gets the protocol's own
    /// error instead of a decoder message; unknown fields are ignored, as Go's decoder ignores them.
    private struct StoreRequest: Decodable {
        var ServerURL: String?
        var Username: String?
        var Secret: String?
    }

    static func parseCredential(_ input: [UInt8]) throws(CredentialHelperError) -> Credential {
        // A raw NUL byte is left to the JSON parser, which refuses it inside and outside strings.
        let text = try utf8(input)
        guard !text.trimmingASCIIWhitespace().isEmpty else { throw .invalidJSON("stdin is empty") }
        let request: StoreRequest
        do {
            request = try JSONInput.decode(StoreRequest.self, from: text.utf8)
        } catch let DecodingError.typeMismatch(_, context) {
            // Name the field, never echo the value: it may be the secret.
            if let field = context.codingPath.first?.stringValue {
                throw .invalidJSON("\"\(field)\" must be a string")
            }
            throw .invalidJSON("the input is not a JSON object")
        } catch DecodingError.valueNotFound(_, let context) where context.codingPath.isEmpty {
            throw .invalidJSON("the input is not a JSON object")
        } catch {
            throw .invalidJSON("the input is not valid JSON")
        }
        // Trimmed as `get` and `erase` trim their input, so that `get` answers with the URL that was stored.
        guard let serverURL = request.ServerURL?.trimmingASCIIWhitespace(), !serverURL.isEmpty else { throw .missingServerURL }
        guard let username = request.Username, !username.isEmpty else { throw .missingUsername }
        guard let secret = request.Secret, !secret.isEmpty else { throw .missingSecret }
        for (field, value) in [("ServerURL", serverURL), ("Username", username), ("Secret", secret)]
        where value.contains("\0") {
            throw .nulCharacter(field: field)
        }
        return Credential(serverURL: serverURL, username: username, secret: secret)
    }
}
