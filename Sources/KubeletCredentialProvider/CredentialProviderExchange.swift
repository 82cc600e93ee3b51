import ErrorExplanation
import FoundationEssentials
import JSONInput

/// The kubelet's image credential provider exec protocol (`credentialprovider.kubelet.k8s.io`): the
/// kubelet writes a `CredentialProviderRequest` naming one image to stdin and reads a
/// `CredentialProviderResponse` with credentials per registry pattern from stdout.
public struct CredentialProviderRequest: Sendable, Equatable {
    public static let apiVersions = [
        "credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1",
        "credentialprovider.kubelet.k8s.io/v1alpha1",
    ]

    public let apiVersion: String
    public let image: String
    /// KEP-4412 (the provider config's `tokenAttributes`): the pod's service-account token, for the
    /// audience the config names, and the annotations of its service account that the config asks for.
    public let serviceAccountToken: String?
    public let serviceAccountAnnotations: [String: String]

    private struct Wire: Decodable {
        var apiVersion: String?
        var kind: String?
        var image: String?
        var serviceAccountToken: String?
        var serviceAccountAnnotations: [String: String]?
    }

    public init(json bytes: [UInt8]) throws(KubeletPluginError) {
        guard let wire = try? JSONInput.decode(Wire.self, from: bytes) else { throw .notJSON }
        guard wire.kind == "CredentialProviderRequest" else { throw .wrongKind(wire.kind ?? "none") }
        guard let version = wire.apiVersion, Self.apiVersions.contains(version) else {
            throw .unsupportedVersion(wire.apiVersion ?? "none")
        }
        guard let image = wire.image, !image.isEmpty else { throw .noImage }
        apiVersion = version
        self.image = image
        serviceAccountToken = wire.serviceAccountToken.flatMap { $0.isEmpty ? nil : $0 }
        serviceAccountAnnotations = wire.serviceAccountAnnotations ?? [:]
    }

    /// The registry host of the image reference as the image spells it, which is the key the kubelet
    /// matches (case-sensitively): the first component when it looks like a host (has a dot or a port,
    /// or is localhost), else Docker Hub.
    public var host: String {
        let first = image.split(separator: "/", maxSplits: 1).first.map(String.init) ?? image
        guard image.contains("/"), first.contains(".") || first.contains(":") || first == "localhost" else {
            return "docker.io"
        }
        return first
    }

    /// The registry, for looking it up: host names are case-insensitive.
    public var registry: String { host.lowercased() }
}

/// What the plugin answers: credentials for one registry, or none (the kubelet then pulls without).
public struct CredentialProviderResponse: Sendable, Equatable {
    public let apiVersion: String
    public let registry: String?
    public let username: String
    public let password: String
    /// How long the kubelet may keep the credentials; nil leaves it to its `defaultCacheDuration`.
    public let cacheSeconds: Int64?

    public init(apiVersion: String, registry: String, username: String, password: String, cacheSeconds: Int64?) {
        self.apiVersion = apiVersion
        self.registry = registry
        self.username = username
        self.password = password
        self.cacheSeconds = cacheSeconds
    }

    /// No credential, not to be kept (as cloud-provider-azure answers): asked again for the next image.
    public static func empty(apiVersion: String) -> CredentialProviderResponse {
        CredentialProviderResponse(apiVersion: apiVersion, registry: nil)
    }

    private init(apiVersion: String, registry: String?) {
        self.apiVersion = apiVersion
        self.registry = registry
        username = ""
        password = ""
        cacheSeconds = 0
    }

    private struct Wire: Encodable {
        struct Auth: Encodable {
            var username: String
            var password: String
        }
        var apiVersion: String
        var kind = "CredentialProviderResponse"
        /// Credentials hold for the whole registry, not just the one image asked about.
        var cacheKeyType = "Registry"
        var cacheDuration: String?
        var auth: [String: Auth]
    }

    public var json: String {
        var wire = Wire(apiVersion: apiVersion, cacheDuration: cacheSeconds.map(Self.goDuration), auth: [:])
        if let registry { wire.auth[registry] = .init(username: username, password: password) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(wire)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// Go's `time.Duration` text, which the kubelet parses: "2h49m30s", "5m0s", "0s".
    static func goDuration(_ seconds: Int64) -> String {
        let seconds = max(0, seconds)
        let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
        if hours > 0 { return "\(hours)h\(minutes)m\(rest)s" }
        if minutes > 0 { return "\(minutes)m\(rest)s" }
        return "\(rest)s"
    }
}

public enum KubeletPluginError: ExplainedError, Equatable {
    case notJSON
    case wrongKind(String)
    case unsupportedVersion(String)
    case noImage
    /// A service-account token came without the annotation (any of these keys) that names its app.
    case missingAnnotation([String])
    case badMirror(String)

    public var cause: String {
        switch self {
        case .notJSON: "the input is not a JSON CredentialProviderRequest"
        case .wrongKind(let kind): "expected kind CredentialProviderRequest, got \(kind)"
        case .unsupportedVersion(let version): "apiVersion \(version) is not supported"
        case .noImage: "the CredentialProviderRequest names no image"
        case .badMirror(let mapping): "--registry-mirror \(mapping) is not SOURCE:TARGET"
        case .missingAnnotation(let keys):
            "the request carries the pod's service-account token but none of the annotations \(keys.joined(separator: ", ")) of its service account"
        }
    }

    public var fix: String? {
        switch self {
        case .notJSON: "run this only as the kubelet's image credential provider"
        case .unsupportedVersion: "use credentialprovider.kubelet.k8s.io/v1 in the CredentialProviderConfig"
        case .missingAnnotation(let keys):
            "annotate the service account with \(keys[0]), and list it in the provider config's tokenAttributes.requiredServiceAccountAnnotationKeys"
        case .badMirror: "give hosts without ports, e.g. --registry-mirror mcr.microsoft.com:myregistry.azurecr.io"
        case .wrongKind, .noImage: nil
        }
    }
}
