import DockerCredentialProtocol
import ErrorExplanation
import FoundationEssentials
import JSONInput

/// The JSON of `az acr login --expose-token`: `{"accessToken": "<ACR refresh token>", "loginServer": "…"}`.
public enum ExposedTokenImport {
    public static func parse(_ input: [UInt8]) throws(ImportError) -> Credential {
        guard input.count <= CredentialHelper.maximumInputBytes else { throw .invalid("more than 1 MiB on stdin") }
        guard let answer = try? JSONInput.decode(Answer.self, from: input) else {
            throw .invalid("stdin is not the JSON that `az acr login --expose-token` prints")
        }
        guard let token = answer.accessToken, ExposedToken.isACRRefreshToken(token) else {
            throw .invalid("\"accessToken\" is not an ACR token")
        }
        guard let server = answer.loginServer, let address = try? ServerAddress(server),
              LoginServer(address) != nil
        else { throw .invalid("\"loginServer\" is not an ACR login server (name.azurecr.io)") }
        return Credential(serverURL: address.key, username: LoginServer.tokenUsername, secret: token)
    }

    private struct Answer: Decodable {
        var accessToken: String?
        var loginServer: String?
    }
}

public enum ImportError: ExplainedError {
    case invalid(String)

    public var cause: String {
        switch self {
        case .invalid(let reason): "cannot import: \(reason)"
        }
    }

    public var fix: String? { "pipe in the output of `az acr login --name REGISTRY --expose-token`" }
}
