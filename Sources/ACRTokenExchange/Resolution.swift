import AzureIdentity
import DockerCredentialProtocol
import ErrorExplanation

/// How `get`'s answer for one login server came about: every step it took, in order, each used,
/// unavailable (why) or failed (cause and fix), and the answer. `get` answers from it, `diagnose` reports
/// it, so the two never disagree about what happens.
public struct Resolution: Sendable {
    public struct Step: Sendable {
        public enum Stage: Sendable, Equatable {
            /// A credential stored for the registry (`docker login`, `import`).
            case storedCredential
            /// Where the identity sources are read from: the environment's endpoints and the configuration.
            case identitySettings
            /// One identity source of the chain.
            case identity(IdentityKind)
            /// The ACR refresh token cached for the identity in use.
            case cachedToken
            case azureADToken
            case tenant
            case exchange
        }

        public enum Outcome: Sendable {
            case used(String)
            case unavailable(String)
            case failed(Explanation)
        }

        public var stage: Stage
        public var outcome: Outcome
    }

    public enum Answer: Sendable {
        case stored(Credential)
        case derived(DerivedToken)
        /// No credential: `credentials not found`, and Docker goes on anonymously.
        case nothing
        case failed(any Error)
    }

    public let server: LoginServer
    public internal(set) var steps: [Step] = []
    public internal(set) var answer: Answer = .nothing
    /// The Azure AD token of the source that answered, where one was fetched (`diagnose` shows its claims).
    public internal(set) var azureADToken: AzureADToken?
    /// A stored token whose `exp` has passed: it is not served.
    public internal(set) var expiredStored: Credential?

    init(server: LoginServer) {
        self.server = server
    }

    mutating func record(_ stage: Step.Stage, _ outcome: Step.Outcome) {
        steps.append(Step(stage: stage, outcome: outcome))
    }

    /// Ends the walk: the step failed for `error`, which is the answer.
    mutating func fail(_ stage: Step.Stage, _ error: any Error) {
        // A step belongs to its registry already: an identity's failure in its own words, without the server.
        let shown: any Error = if case .identity(_, let inner)? = error as? ACRError { inner } else { error }
        record(stage, .failed(Explanation(shown)))
        answer = .failed(error)
    }

    /// The outcome of the first step of `stage`, if the walk took one.
    public func outcome(of stage: Step.Stage) -> Step.Outcome? {
        steps.first { $0.stage == stage }?.outcome
    }

    /// The identity sources passed over because they are not there, in order.
    public var unavailableSources: [IdentityKind] {
        steps.compactMap { step in
            if case .identity(let kind) = step.stage, case .unavailable = step.outcome { return kind }
            return nil
        }
    }

    /// The credential Docker gets: nil for none; throws what made it fail.
    public func credential(serverURL: String) throws -> Credential? {
        switch answer {
        case .stored(let credential): credential
        case .derived(let token): Credential(serverURL: serverURL, username: LoginServer.tokenUsername, secret: token.token)
        case .nothing: nil
        case .failed(let error): throw error
        }
    }
}

/// An ACR refresh token the resolution answers with.
public struct DerivedToken: Sendable {
    public enum Origin: Sendable, Equatable {
        /// From the cache, with more than the refresh margin left.
        case cache
        /// Just exchanged.
        case exchange
        /// From the cache, due for renewal, served because renewing it failed.
        case dueFallback
    }

    public let token: String
    public let expiresOn: Int64
    public let origin: Origin
}

/// How the walk treats the token cache.
public enum ResolutionPolicy: Sendable {
    /// `get`, `kubelet`, `login`: cached tokens first, one process at a time derives a new one (a lock per
    /// registry in `lockDirectory`), and what is derived is kept.
    case serving(lockDirectory: String)
    /// `diagnose`: every token fetched live, nothing written.
    case probing

    var isServing: Bool {
        if case .serving = self { true } else { false }
    }
}
