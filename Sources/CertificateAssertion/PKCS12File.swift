import AzureIdentity
import CLibCrypto

/// A PKCS#12 (.pfx, .p12) file as Windows, Azure Key Vault and `openssl pkcs12 -export` write it, read by
/// OpenSSL, whose legacy provider also reads the RC2 and 3DES of older exports: the private key as DER,
/// and the certificates as DER, the key's own first.
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
            EVP_PKEY_free(key)
            X509_free(leaf)
            if let chain { clibcrypto_free_certificates(chain) }
        }
        guard let key, let leaf else { throw .invalidCertificate(path: path, reason: "it holds no private key with its certificate") }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else { throw .invalidCertificate(path: path, reason: "its private key is not an RSA key") }
        var certificates = [der(of: leaf)]
        if let chain {
            for index in 0..<clibcrypto_certificates_count(chain) {
                if let certificate = clibcrypto_certificate(chain, index) { certificates.append(der(of: certificate)) }
            }
        }
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_PrivateKey(key, &out)
        guard length > 0, let out else { throw .invalidCertificate(path: path, reason: "its private key cannot be exported") }
        defer { CRYPTO_clear_free(out, Int(length), #fileID, #line) }
        return SigningMaterial(privateKey: Array(UnsafeBufferPointer(start: out, count: Int(length))), certificates: certificates)
    }

    private static func der(of certificate: OpaquePointer) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(certificate, &out)
        guard length > 0, let out else { return [] }
        defer { CRYPTO_free(out, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// Once per process: the legacy algorithms beside the default ones (loading one provider by name stops
    /// OpenSSL from loading the default by itself).
    private static let providers: Void = {
        _ = OSSL_PROVIDER_load(nil, "default")
        _ = OSSL_PROVIDER_load(nil, "legacy")
    }()
}

/// What signs an assertion: the RSA private key (PKCS#1 or PKCS#8 DER) and the certificates (DER), the
/// key's own first, then the chain as the file gives it.
struct SigningMaterial {
    var privateKey: [UInt8]
    var certificates: [[UInt8]]
}
