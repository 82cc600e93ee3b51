import CLibCurl
import FoundationEssentials
import HTTPTransport
import Synchronization

/// CA certificates to trust on top of the system's: `SSL_CERT_FILE` and `SSL_CERT_DIR`, as OpenSSL and Go
/// read them, and the configuration file's `caBundle` (for daemons that get no shell environment).
public struct TrustSettings: Sendable {
    /// (where it was named, path) of each PEM bundle.
    public var files: [(source: String, path: String)]
    /// (where it was named, path) of each folder of PEM files.
    public var folders: [(source: String, path: String)]

    public init(environment: [String: String], caBundle: String?) {
        files = []
        folders = []
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty { files.append(("SSL_CERT_FILE", file)) }
        if let caBundle, !caBundle.isEmpty { files.append(("caBundle in the configuration file", caBundle)) }
        // As OpenSSL: a colon-separated list.
        for folder in (environment["SSL_CERT_DIR"] ?? "").split(separator: ":") { folders.append(("SSL_CERT_DIR", String(folder))) }
    }

    /// Every certificate of the files (each must hold at least one) and of the folders' files.
    func certificates() throws(HTTPTransportError) -> TrustedCertificates {
        var certificates = TrustedCertificates()
        if files.isEmpty && folders.isEmpty { return certificates }
        // OpenSSL is libcurl's, loaded with it.
        if let missing = clibcurl_load() { throw .clientMissing(String(cString: missing)) }
        for (source, path) in files {
            guard certificates.add(pemFile: path) > 0 else { throw .unusableCABundle(source: source, path: path) }
        }
        for (_, folder) in folders {
            // Like Go, every file in the folder, hashed names or not; a folder that is not there adds nothing.
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names.sorted() { _ = certificates.add(pemFile: folder + "/" + name) }
        }
        return certificates
    }
}

/// The extra CA certificates, read once, by the first request that needs them.
final class LazyTrust: Sendable {
    private let settings: TrustSettings
    private let loaded = Mutex<Result<TrustedCertificates, HTTPTransportError>?>(nil)

    init(_ settings: TrustSettings) { self.settings = settings }

    func certificates() throws(HTTPTransportError) -> TrustedCertificates {
        try loaded.withLock { loaded in
            if let loaded { return loaded }
            let result = Result { () throws(HTTPTransportError) in try settings.certificates() }
            loaded = result
            return result
        }.get()
    }
}

/// OpenSSL certificates, read once and kept for the life of the process (the transport is made once).
struct TrustedCertificates: @unchecked Sendable {
    private(set) var all: [OpaquePointer] = []

    /// Adds the file's PEM certificates; returns how many it held (0 for a file that cannot be read).
    mutating func add(pemFile path: String) -> Int {
        guard let file = clibssl_bio_new_file(path, "r") else { return 0 }
        defer { clibssl_bio_free(file) }
        var count = 0
        while let certificate = clibssl_pem_read_bio_x509(file) {
            all.append(certificate)
            count += 1
        }
        clibssl_err_clear_error()  // the end of the file reads as an error
        return count
    }
}

/// What one connection's TLS accepts, applied to the OpenSSL context libcurl made for it: the system's CAs
/// and the extra ones, or, for a pinned server, its one certificate by SHA-1 thumbprint and nothing else.
final class TLSPolicy: @unchecked Sendable {
    let extraRoots: TrustedCertificates
    /// The lowercase hex SHA-1 thumbprint of the only certificate accepted.
    let pin: String?
    /// The thumbprint a pinned server presented instead; set during the handshake, which then fails.
    private(set) var presented: String?

    init(extraRoots: TrustedCertificates) {
        self.extraRoots = extraRoots
        pin = nil
    }

    init(pin thumbprint: String) {
        extraRoots = TrustedCertificates()
        pin = thumbprint.filter(\.isHexDigit).lowercased()
    }

    func apply(to context: OpaquePointer) {
        if pin != nil {
            // Replaces the chain check: the handshake goes on only for the pinned certificate, before any
            // byte of the request is sent.
            clibssl_ctx_verify_with(context, { store, policy in
                let policy = Unmanaged<TLSPolicy>.fromOpaque(policy!).takeUnretainedValue()
                return policy.accepts(clibssl_store_ctx_get0_cert(store)) ? 1 : 0
            }, Unmanaged.passUnretained(self).toOpaque())
            return
        }
        let store = clibssl_ctx_get_cert_store(context)
        for certificate in extraRoots.all { clibssl_store_add_cert(store, certificate) }
    }

    private func accepts(_ certificate: OpaquePointer?) -> Bool {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard let certificate, clibssl_sha1_digest(certificate, &digest, &length) == 1 else {
            presented = ""
            return false
        }
        let thumbprint = digest.prefix(Int(length)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        if thumbprint == pin { return true }
        presented = thumbprint
        return false
    }
}
