import Crypto
import FoundationEssentials
import _CryptoExtras

/// The signed JWT with which a service principal proves that it holds its certificate's private key
/// (Microsoft identity platform "certificate credentials"): RS256, `x5t` = the certificate's SHA-1
/// thumbprint, `aud` = the token endpoint, `iss` = `sub` = the client id.
enum ClientAssertion {
    static func signed(certificatePath path: String, clientID: String, audience: String, now: Int64)
        throws(AzureIdentityError) -> String
    {
        guard let bytes = try? ReadFile.contents(path), let pem = String(validating: bytes, as: UTF8.self) else {
            throw .unreadableFile(variable: "AZURE_CLIENT_CERTIFICATE_PATH", path: path)
        }
        guard let certificate = pemBlocks(pem).first(where: { $0.label == "CERTIFICATE" }),
              let der = Data(base64Encoded: certificate.base64, options: .ignoreUnknownCharacters)
        else { throw .invalidCertificate(path: path, reason: "it holds no CERTIFICATE block") }
        guard let keyBlock = pemBlocks(pem).first(where: { $0.label.hasSuffix("PRIVATE KEY") }) else {
            throw .invalidCertificate(path: path, reason: "it holds no private key")
        }
        guard !keyBlock.label.contains("ENCRYPTED") else {
            throw .invalidCertificate(path: path, reason: "its private key is encrypted")
        }
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: keyBlock.text)
        } catch {
            throw .invalidCertificate(path: path, reason: "its private key is not an RSA key")
        }
        let header = #"{"alg":"RS256","typ":"JWT","x5t":"\#(Base64URL.encode(Insecure.SHA1.hash(data: der)))"}"#
        let claims = #"{"aud":"\#(audience)","iss":"\#(clientID)","sub":"\#(clientID)","jti":"\#(UUID().uuidString)","nbf":\#(now),"iat":\#(now),"exp":\#(now + 600)}"#
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(claims.utf8))
        do {
            let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
            return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
        } catch {
            throw .invalidCertificate(path: path, reason: "signing failed")
        }
    }

    struct PEMBlock {
        let label: String
        let text: String
        let base64: String
    }

    static func pemBlocks(_ pem: String) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var label: String?
        var lines: [Substring] = []
        for line in pem.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("-----BEGIN ") {
                label = String(line.dropFirst(11).dropLast(5))
                lines = [line]
            } else if let current = label, line.hasPrefix("-----END ") {
                lines.append(line)
                blocks.append(PEMBlock(
                    label: current, text: lines.joined(separator: "\n"),
                    base64: lines.dropFirst().dropLast().joined()))
                label = nil
            } else if label != nil {
                lines.append(line)
            }
        }
        return blocks
    }
}
