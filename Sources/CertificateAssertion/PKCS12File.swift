import AzureIdentity
import CLibCrypto

/// A PKCS#12 (.pfx, .p12) file as Windows, Azure Key Vault and `openssl pkcs12 -export` write it, read by
/// OpenSSL, whose legacy provider also reads the RC2 and 3DES of older exports: the private key, and the
/// certificates as DER, the key's own first.
enum PKCS12File {
    static func read(_ bytes: [UInt8], password: String?, path: String) throws(AzureIdentityError) -> SigningMaterial {
        _ = providers
        var cursor: UnsafePointer<UInt8>? = nil
        let file = bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            cursor = buffer.baseAddress
            return d2i_PKCS12(nil, &cursor, buffer.count)
        }
        guard let file else { throw .invalidCertificate(path: path, reason: "it is not a PKCS#12 (.pfx) file") }
        defer { PKCS12_free(file) }
        var key: OpaquePointer?
        var leaf: OpaquePointer?
        var chain: OpaquePointer?
        ERR_clear_error()
        guard PKCS12_parse(file, password, &key, &leaf, &chain) == 1 else {
            let reason = ERR_GET_REASON(ERR_peek_last_error())
            ERR_clear_error()
            if reason == PKCS12_R_MAC_VERIFY_FAILURE {
                throw .invalidCertificate(path: path, reason: password == nil
                    ? "it is protected by a password; set AZURE_CLIENT_CERTIFICATE_PASSWORD"
                    : "its password is wrong; check AZURE_CLIENT_CERTIFICATE_PASSWORD")
            }
            throw .invalidCertificate(path: path, reason: "OpenSSL cannot read it (an unsupported PKCS#12 algorithm)")
        }
        defer {
            X509_free(leaf)
            if let chain { clibcrypto_free_certificates(chain) }
        }
        guard let key, let leaf else {
            EVP_PKEY_free(key)
            throw .invalidCertificate(path: path, reason: "it holds no private key with its certificate")
        }
        var certificates = [OpenSSLMemory.der(of: leaf)]
        if let chain {
            for index in 0..<clibcrypto_certificates_count(chain) {
                if let certificate = clibcrypto_certificate(chain, index) { certificates.append(OpenSSLMemory.der(of: certificate)) }
            }
        }
        return SigningMaterial(key: key, certificates: certificates)
    }

    /// Once per process: the legacy algorithms beside the default ones (loading one provider by name stops
    /// OpenSSL from loading the default by itself).
    private static let providers: Void = {
        _ = OSSL_PROVIDER_load(nil, "default")
        _ = OSSL_PROVIDER_load(nil, "legacy")
    }()
}

/// What signs an assertion: the private key (OpenSSL's, freed with this) and the certificates (DER), the
/// key's own first, then the chain as the file gives it.
final class SigningMaterial {
    let key: OpaquePointer
    let certificates: [[UInt8]]

    init(key: OpaquePointer, certificates: [[UInt8]]) {
        self.key = key
        self.certificates = certificates
    }

    deinit { EVP_PKEY_free(key) }
}
