import AzureIdentity
import CLibCrypto
import FoundationEssentials
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// The signed JWT with which a service principal proves that it holds its certificate's private key
/// (Microsoft identity platform "certificate credentials"): RS256, `x5t` and `x5t#S256` = the certificate's
/// SHA-1 and SHA-256 thumbprints, `x5c` = the chain when asked for (subject name and issuer
/// authentication), `aud` = the token endpoint, `iss` = `sub` = the client id.
public struct CertificateAssertionSigner: ClientAssertionSigner {
    public init() {}

    public func assertion(certificatePath: String, password: String?, sendChain: Bool, clientID: String, audience: String, now: Int64)
        throws(AzureIdentityError) -> String
    {
        try ClientAssertion.signed(
            certificatePath: certificatePath, password: password, sendChain: sendChain, clientID: clientID, audience: audience, now: now)
    }
}

enum ClientAssertion {
    static func signed(certificatePath path: String, password: String?, sendChain: Bool, clientID: String, audience: String, now: Int64)
        throws(AzureIdentityError) -> String
    {
        guard let bytes = try? FileDescriptorReader.contents(of: path, limit: 1 << 20) else {
            throw .unreadableFile(variable: "AZURE_CLIENT_CERTIFICATE_PATH", path: path)
        }
        let lower = path.lowercased()
        let material = lower.hasSuffix(".pfx") || lower.hasSuffix(".p12")
            ? try PKCS12File.read(bytes, password: password, path: path)
            : try PEMFile.read(bytes, password: password, path: path)
        guard EVP_PKEY_get_base_id(material.key) == EVP_PKEY_RSA else {
            throw .invalidCertificate(path: path, reason: "its private key is not an RSA key")
        }
        let leaf = material.certificates[0]
        var header = #"{"alg":"RS256","typ":"JWT","x5t":"\#(Base64URL.encode(digest(leaf, EVP_sha1())))","x5t#S256":"\#(Base64URL.encode(digest(leaf, EVP_sha256())))""#
        if sendChain {
            header += #","x5c":["# + material.certificates.map { "\"" + Data($0).base64EncodedString() + "\"" }.joined(separator: ",") + "]"
        }
        header += "}"
        let claims = #"{"aud":"\#(audience)","iss":"\#(clientID)","sub":"\#(clientID)","jti":"\#(UUID().uuidString)","nbf":\#(now),"iat":\#(now),"exp":\#(now + 600)}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        guard let signature = sign(Array(signingInput.utf8), with: material.key) else {
            throw .invalidCertificate(path: path, reason: "signing failed")
        }
        return signingInput + "." + Base64URL.encode(signature)
    }

    static func digest(_ bytes: [UInt8], _ type: OpaquePointer?) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_Digest(bytes, bytes.count, &out, &length, type, nil) == 1 else { return [] }
        return Array(out.prefix(Int(length)))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256: RS256.
    private static func sign(_ input: [UInt8], with key: OpaquePointer) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        var length = 0
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1,
              EVP_DigestSign(context, nil, &length, input, input.count) == 1
        else { return nil }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, input, input.count) == 1 else { return nil }
        return Array(signature.prefix(length))
    }
}

/// A PEM file as OpenSSL reads it: its first certificate is the key's, the others its chain; the key plain
/// (PKCS#8 or PKCS#1) or encrypted (PKCS#8, or the older `Proc-Type: 4,ENCRYPTED`).
enum PEMFile {
    static func read(_ bytes: [UInt8], password: String?, path: String) throws(AzureIdentityError) -> SigningMaterial {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.contains("-----BEGIN ") else {
            throw .invalidCertificate(path: path, reason: "it is not PEM, nor named .pfx or .p12")
        }
        var certificates: [[UInt8]] = []
        OpenSSLMemory.reading(bytes) { file in
            while let certificate = PEM_read_bio_X509(file, nil, nil, nil) {
                certificates.append(OpenSSLMemory.der(of: certificate))
                X509_free(certificate)
            }
        }
        guard !certificates.isEmpty else { throw .invalidCertificate(path: path, reason: "it holds no CERTIFICATE block") }
        let encrypted = text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || text.contains("Proc-Type: 4,ENCRYPTED")
        guard text.contains("PRIVATE KEY-----") else { throw .invalidCertificate(path: path, reason: "it holds no private key") }
        if encrypted, password == nil {
            throw .invalidCertificate(path: path, reason: "its private key is encrypted; set AZURE_CLIENT_CERTIFICATE_PASSWORD")
        }
        // The password as the callback's argument: without one, a callback that gives none, so that OpenSSL
        // never asks on the terminal.
        var passphrase = Array((password ?? "").utf8CString)
        let key = OpenSSLMemory.reading(bytes) { file in
            PEM_read_bio_PrivateKey(file, nil, { buffer, size, _, passphrase in
                let given = passphrase!.assumingMemoryBound(to: CChar.self)
                let length = min(strlen(given), Int(size))
                memcpy(buffer!, given, length)
                return Int32(length)
            }, &passphrase)
        }
        passphrase.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        ERR_clear_error()
        guard let key else {
            throw .invalidCertificate(path: path, reason: encrypted
                ? "its private key cannot be decrypted (wrong password); check AZURE_CLIENT_CERTIFICATE_PASSWORD"
                : "its private key cannot be read")
        }
        return SigningMaterial(key: key, certificates: certificates)
    }
}

/// OpenSSL's in-memory files and DER output.
enum OpenSSLMemory {
    static func reading<T>(_ bytes: [UInt8], _ read: (OpaquePointer) -> T?) -> T? {
        bytes.withUnsafeBytes { buffer in
            guard let file = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(file) }
            return read(file)
        }
    }

    static func der(of certificate: OpaquePointer) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(certificate, &out)
        guard length > 0, let out else { return [] }
        defer { CRYPTO_free(out, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }
}
