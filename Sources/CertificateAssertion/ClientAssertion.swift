import ErrorExplanation
import AzureIdentity
import Crypto
import FoundationEssentials
import SwiftASN1
import SystemIO
import _CryptoExtras

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
        var material = lower.hasSuffix(".pfx") || lower.hasSuffix(".p12")
            ? try PKCS12File.read(bytes, password: password, path: path)
            : try pem(bytes, password: password, path: path)
        defer { material.privateKey.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(derRepresentation: material.privateKey)
        } catch {
            throw .invalidCertificate(path: path, reason: "its private key is not an RSA key")
        }
        let leaf = material.certificates[0]
        var header = #"{"alg":"RS256","typ":"JWT","x5t":"\#(Base64URL.encode(Insecure.SHA1.hash(data: leaf)))","x5t#S256":"\#(Base64URL.encode(SHA256.hash(data: leaf)))""#
        if sendChain {
            header += #","x5c":["# + material.certificates.map { "\"" + Data($0).base64EncodedString() + "\"" }.joined(separator: ",") + "]"
        }
        header += "}"
        let claims = #"{"aud":"\#(audience)","iss":"\#(clientID)","sub":"\#(clientID)","jti":"\#(UUID().uuidString)","nbf":\#(now),"iat":\#(now),"exp":\#(now + 600)}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        do {
            let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
            return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
        } catch {
            throw .invalidCertificate(path: path, reason: "signing failed")
        }
    }

    /// A PEM file: its first certificate is the key's, the others its chain.
    private static func pem(_ bytes: [UInt8], password: String?, path: String) throws(AzureIdentityError) -> SigningMaterial {
        guard let text = String(validating: bytes, as: UTF8.self), let documents = try? PEMDocument.parseMultiple(pemString: text) else {
            throw .invalidCertificate(path: path, reason: "it is not PEM (encrypted keys must be PKCS#8: `openssl pkcs8 -topk8`), nor named .pfx or .p12")
        }
        let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }.map(\.derBytes)
        guard !certificates.isEmpty else { throw .invalidCertificate(path: path, reason: "it holds no CERTIFICATE block") }
        return SigningMaterial(privateKey: try privateKey(from: documents, password: password, path: path), certificates: certificates)
    }

    private static func privateKey(from documents: [PEMDocument], password: String?, path: String) throws(AzureIdentityError) -> [UInt8] {
        if let plain = documents.first(where: { $0.discriminator == "PRIVATE KEY" || $0.discriminator == "RSA PRIVATE KEY" }) {
            return plain.derBytes
        }
        guard let encrypted = documents.first(where: { $0.discriminator == "ENCRYPTED PRIVATE KEY" }) else {
            throw .invalidCertificate(path: path, reason: "it holds no private key")
        }
        guard let password else {
            throw .invalidCertificate(path: path, reason: "its private key is encrypted; set AZURE_CLIENT_CERTIFICATE_PASSWORD")
        }
        do {
            return try EncryptedPrivateKey.decrypt(encrypted.derBytes, password: password)
        } catch {
            throw .invalidCertificate(path: path, reason: "its private key cannot be decrypted (\(error)); check AZURE_CLIENT_CERTIFICATE_PASSWORD")
        }
    }
}

/// PKCS#8 `EncryptedPrivateKeyInfo` with PBES2 (RFC 8018): PBKDF2 with HMAC-SHA-1 or -SHA-256 and
/// AES-CBC, what `openssl pkcs8 -topk8 -v2 aes-256-cbc` and current OpenSSL write by default.
enum EncryptedPrivateKey {
    enum Failure: ExplainedError {
        case unsupported(String)
        case wrongPassword

        var cause: String {
            switch self {
            case .unsupported(let what): "unsupported \(what)"
            case .wrongPassword: "wrong password"
            }
        }

        var fix: String? {
            switch self {
            case .unsupported: "use PBES2 with PBKDF2 and AES-CBC"
            case .wrongPassword: nil
            }
        }
    }

    static let pbes2: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 5, 13]
    static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 5, 12]
    static let hmacSHA1: ASN1ObjectIdentifier = [1, 2, 840, 113549, 2, 7]
    static let hmacSHA256: ASN1ObjectIdentifier = [1, 2, 840, 113549, 2, 9]
    /// AES-128/192/256-CBC and their key sizes.
    static let ciphers: [ASN1ObjectIdentifier: Int] = [
        [2, 16, 840, 1, 101, 3, 4, 1, 2]: 16, [2, 16, 840, 1, 101, 3, 4, 1, 22]: 24, [2, 16, 840, 1, 101, 3, 4, 1, 42]: 32,
    ]

    /// The decrypted `PrivateKeyInfo`.
    static func decrypt(_ der: [UInt8], password: String) throws -> [UInt8] {
        let parameters = try DER.sequence(try DER.parse(der), identifier: .sequence) { nodes in
            let scheme = try DER.sequence(try next(&nodes), identifier: .sequence) { algorithm in
                guard try ASN1ObjectIdentifier(derEncoded: &algorithm) == pbes2 else { throw Failure.unsupported("encryption scheme") }
                return try DER.sequence(try next(&algorithm), identifier: .sequence) { pbes2 in
                    let kdf = try DER.sequence(try next(&pbes2), identifier: .sequence, pbkdf2Parameters)
                    let cipher = try DER.sequence(try next(&pbes2), identifier: .sequence) { cipher in
                        let oid = try ASN1ObjectIdentifier(derEncoded: &cipher)
                        guard let keySize = ciphers[oid] else { throw Failure.unsupported("cipher \(oid)") }
                        return (keySize, try ASN1OctetString(derEncoded: &cipher).bytes)
                    }
                    return (kdf, cipher)
                }
            }
            return (scheme, try ASN1OctetString(derEncoded: &nodes).bytes)
        }
        let ((kdf, (keySize, iv)), ciphertext) = parameters
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: kdf.salt, using: kdf.hash, outputByteCount: keySize,
            unsafeUncheckedRounds: kdf.rounds)
        guard let plain = try? AES._CBC.decrypt(ciphertext, using: key, iv: AES._CBC.IV(ivBytes: iv)) else {
            throw Failure.wrongPassword
        }
        // A wrong password usually fails the padding check; if not, what comes out is no PrivateKeyInfo.
        guard (try? DER.parse(Array(plain))) != nil else { throw Failure.wrongPassword }
        return Array(plain)
    }

    private struct PBKDF2Parameters {
        var salt: ArraySlice<UInt8>
        var rounds: Int
        var hash: KDF.Insecure.PBKDF2.HashFunction
    }

    private static func pbkdf2Parameters(_ nodes: inout ASN1NodeCollection.Iterator) throws -> PBKDF2Parameters {
        guard try ASN1ObjectIdentifier(derEncoded: &nodes) == pbkdf2 else { throw Failure.unsupported("key derivation") }
        return try DER.sequence(try next(&nodes), identifier: .sequence) { fields in
            let salt = try ASN1OctetString(derEncoded: &fields).bytes
            let rounds = try Int(derEncoded: &fields)
            var hash = KDF.Insecure.PBKDF2.HashFunction.insecureSHA1
            while let field = fields.next() {
                guard field.identifier == .sequence else { continue }  // the optional keyLength
                let prf = try DER.sequence(field, identifier: .sequence) { algorithm in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &algorithm)
                    while algorithm.next() != nil {}  // its NULL parameters
                    return oid
                }
                switch prf {
                case hmacSHA1: hash = .insecureSHA1
                case hmacSHA256: hash = .sha256
                default: throw Failure.unsupported("PBKDF2 hash \(prf)")
                }
            }
            return PBKDF2Parameters(salt: salt, rounds: rounds, hash: hash)
        }
    }

    private static func next(_ nodes: inout ASN1NodeCollection.Iterator) throws -> ASN1Node {
        guard let node = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "field missing") }
        return node
    }
}
