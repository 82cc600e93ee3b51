import AzureIdentity
import CredentialStores
import DockerCredentialProtocol
import Foundation
import HTTPTransport
import Logging
import Testing
@testable import ACRTokenExchange

/// Azure AD, IMDS and ACR as scripted answers, counting what is asked: the resolution's decisions are
/// driven here with a fixed clock; the wire formats are checked against the emulator by the integration tests.
final class ScriptedAzure: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var secrets: [String]
    var imds: @Sendable (HTTPRequest) throws(HTTPTransportError) -> HTTPResponse
    var exchangeStatus = 200
    let now: @Sendable () -> Int64
    let delay: Duration

    init(secrets: [String] = ["good"], now: @escaping @Sendable () -> Int64, delay: Duration = .zero) {
        self.secrets = secrets
        self.now = now
        self.delay = delay
        imds = { _ throws(HTTPTransportError) in HTTPResponse(status: 400, body: Array(#"{"error":"invalid_request","error_description":"Identity not found"}"#.utf8)) }
    }

    func count(_ endpoint: String) -> Int { lock.withLock { counts[endpoint] ?? 0 } }

    static func jwt(_ claims: [String: Any]) -> String {
        func part(_ object: [String: Any]) -> String {
            (try! JSONSerialization.data(withJSONObject: object)).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return part(["alg": "none"]) + "." + part(claims) + ".c2ln"
    }

    func send(_ request: HTTPRequest, timeout: Duration) async throws(HTTPTransportError) -> HTTPResponse {
        if delay > .zero { try? await Task.sleep(for: delay) }
        let body = String(decoding: request.body, as: UTF8.self)
        let endpoint = request.url.contains("/metadata/") ? "imds" : request.url.contains("/oauth2/exchange") ? "exchange" : "aad"
        lock.withLock { counts[endpoint, default: 0] += 1 }
        switch endpoint {
        case "imds": return try imds(request)
        case "exchange":
            guard exchangeStatus == 200 else { return HTTPResponse(status: exchangeStatus) }
            let token = Self.jwt(["iss": "Azure Container Registry", "exp": now() + 10_800, "n": count("exchange")])
            return HTTPResponse(status: 200, body: Array(#"{"refresh_token":"\#(token)"}"#.utf8))
        default:
            guard secrets.contains(where: { body.contains("client_secret=\($0)&") || body.hasSuffix("client_secret=\($0)") }) else {
                return HTTPResponse(status: 401, body: Array(#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#.utf8))
            }
            let token = Self.jwt(["tid": "t1", "appid": "c1", "exp": now() + 3600])
            return HTTPResponse(status: 200, body: Array(#"{"access_token":"\#(token)","expires_in":3600}"#.utf8))
        }
    }
}

struct NoSigner: ClientAssertionSigner {
    func assertion(certificatePath: String, password: String?, sendChain: Bool, clientID: String, audience: String, now: Int64) throws(AzureIdentityError) -> String {
        throw .invalidCertificate(path: certificatePath, reason: "not in these tests")
    }
}

final class Clock: @unchecked Sendable {
    var seconds: Int64 = 1_800_000_000
}

@Suite struct ResolutionTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("resolution-\(UUID().uuidString)").path
    var store: FileStore { FileStore(directory: folder + "/store") }
    let clock = Clock()
    let server = LoginServer(try! ServerAddress("myreg1.azurecr.io"))!
    static let sp = ["AZURE_TENANT_ID": "t1", "AZURE_CLIENT_ID": "c1", "AZURE_CLIENT_SECRET": "good", "PATH": "/nonexistent"]
    static let imds = ["DOCKER_CREDENTIAL_ACR_IMDS_ENDPOINT": "http://127.0.0.1:9/metadata/identity/oauth2/token", "PATH": "/nonexistent"]

    func resolver(
        _ environment: [String: String], _ azure: ScriptedAzure, policy: ResolutionPolicy? = nil, configuration: ACRConfiguration = ACRConfiguration(),
        store: (any CredentialAndTokenStore)? = nil, signer: (any ClientAssertionSigner)? = NoSigner()
    ) -> CredentialResolver {
        let clock = clock
        var configuration = configuration
        configuration.endpoints[server.name] = "http://127.0.0.1:9/acr"
        return CredentialResolver(
            store: store ?? self.store, configuration: configuration, environment: environment.merging(["AZURE_AUTHORITY_HOST": "http://127.0.0.1:9/"]) { $1 },
            connection: AzureConnection(transport: azure, signer: signer), now: { clock.seconds }, isAzureVM: false,
            policy: policy ?? .serving(lockDirectory: folder + "/locks"), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    func azure(secrets: [String] = ["good"], delay: Duration = .zero) -> ScriptedAzure {
        let clock = clock
        return ScriptedAzure(secrets: secrets, now: { clock.seconds }, delay: delay)
    }

    func unavailable(_ resolution: Resolution) -> [IdentityKind] { resolution.unavailableSources }

    func derived(_ resolution: Resolution) -> DerivedToken? {
        if case .derived(let token) = resolution.answer { return token }
        return nil
    }

    @Test func nothingThereIsNoCredentialAndEverySourceSaysWhy() async throws {
        let resolution = try await resolver(["PATH": "/nonexistent"], azure()).resolve(server, storedAt: ServerAddress(server.name))
        #expect(try resolution.credential(serverURL: server.name) == nil)
        #expect(unavailable(resolution) == IdentityKind.allCases)
        guard case .unavailable(let why)? = resolution.outcome(of: .storedCredential) else { Issue.record("stored step"); return }
        #expect(why.contains("nothing is stored"))
    }

    @Test func aTokenIsDerivedOnceThenServedFromTheCacheUntilItIsDue() async throws {
        let azure = azure()
        let first = try await resolver(Self.sp, azure).resolve(server, storedAt: nil)
        #expect(derived(first)?.origin == .exchange)
        #expect(try await derived(resolver(Self.sp, azure).resolve(server, storedAt: nil))?.origin == .cache)
        #expect(azure.count("aad") == 1 && azure.count("exchange") == 1)
        clock.seconds += 10_800 - 500  // inside the 600 s margin
        #expect(try await derived(resolver(Self.sp, azure).resolve(server, storedAt: nil))?.origin == .exchange)
        #expect(azure.count("exchange") == 2)
    }

    @Test func aDueTokenIsServedWhenRenewingFailsAndASpentOneIsNot() async throws {
        let azure = azure()
        var quick = ACRConfiguration()
        quick.timeout = .milliseconds(600)  // the 500s are retried until it runs out
        let good = try #require(derived(try await resolver(Self.sp, azure).resolve(server, storedAt: nil)))
        azure.exchangeStatus = 500
        clock.seconds += 10_800 - 300
        let due = try await resolver(Self.sp, azure, configuration: quick).resolve(server, storedAt: nil)
        #expect(derived(due)?.origin == .dueFallback && derived(due)?.token == good.token)
        guard case .failed(let why)? = due.outcome(of: .exchange) else { Issue.record("the failed renewal is a step"); return }
        #expect(why.cause.contains("HTTP 500"))
        clock.seconds += 280  // 20 s left
        let spent = try await resolver(Self.sp, azure, configuration: quick).resolve(server, storedAt: nil)
        #expect(throws: ACRError.self) { try spent.credential(serverURL: server.name) }
    }

    @Test func aChangedSecretIsTriedAtOnceAndAWrongOneReported() async throws {
        let azure = azure(secrets: ["good", "rotated"])
        _ = try await resolver(Self.sp, azure).resolve(server, storedAt: nil)
        let rotated = Self.sp.merging(["AZURE_CLIENT_SECRET": "rotated"]) { $1 }
        #expect(try await derived(resolver(rotated, azure).resolve(server, storedAt: nil))?.origin == .exchange)
        #expect(azure.count("aad") == 2, "the new secret's own Azure AD request")
        let wrong = try await resolver(Self.sp.merging(["AZURE_CLIENT_SECRET": "wrong"]) { $1 }, azure).resolve(server, storedAt: nil)
        #expect(throws: ACRError.self) { try wrong.credential(serverURL: server.name) }
        let cached = try store.allCachedTokens()
        #expect(cached.allSatisfy { !($0.token.proof ?? "").contains("rotated") && !($0.token.proof ?? "").contains("good") })
    }

    @Test func imdsWithoutAnIdentityOrSilentIsSkippedAndRemembered() async throws {
        let azure = azure()
        let silent = azure
        let first = try await resolver(Self.imds, azure).resolve(server, storedAt: nil)
        #expect(try first.credential(serverURL: server.name) == nil)
        #expect(unavailable(first).contains(.managedIdentity))
        #expect(azure.count("imds") == 1, "a 400 is an answer: not retried")
        _ = try await resolver(Self.imds, azure).resolve(server, storedAt: nil)
        #expect(azure.count("imds") == 1, "remembered for a while")
        clock.seconds += CredentialResolver.unavailableMemoLifetime + 1
        silent.imds = { _ throws(HTTPTransportError) in throw .connectionFailed(host: "http://127.0.0.1:9", reason: "connection refused") }
        let again = try await resolver(Self.imds, silent).resolve(server, storedAt: nil)
        #expect(unavailable(again).contains(.managedIdentity) && silent.count("imds") == 2, "no answer to the probe: not retried")
    }

    @Test func aUserAssignedIdentityThatIsNotThereFails() async throws {
        let resolution = try await resolver(Self.imds.merging(["AZURE_CLIENT_ID": "u1"]) { $1 }, azure()).resolve(server, storedAt: nil)
        #expect(throws: ACRError.self) { try resolution.credential(serverURL: server.name) }
    }

    @Test func aPinnedSourceThatIsNotThereFails() async throws {
        var configuration = ACRConfiguration()
        configuration.registries[server.name] = .init(identity: IdentitySettings(kind: .managedIdentity), cloud: .azurePublic, refreshMargin: nil)
        let missing = try await resolver(Self.imds, azure(), configuration: configuration).resolve(server, storedAt: nil)
        #expect(throws: ACRError.self) { try missing.credential(serverURL: server.name) }
        configuration.registries[server.name] = .init(identity: IdentitySettings(kind: .workloadIdentity), cloud: .azurePublic, refreshMargin: nil)
        let unset = try await resolver(Self.sp, azure(), configuration: configuration).resolve(server, storedAt: nil)
        #expect("\(try #require(try? { () -> ACRError? in if case .failed(let e) = unset.answer { return e as? ACRError }; return nil }()))"
            .contains("the configuration file asks for workload identity"))
    }

    @Test func theSignInIsUsedWhereIMDSHasNoIdentity() async throws {
        try StoredSignIns(cache: store, now: { 0 }).save(SignIn(
            refreshToken: "rt", tenant: "t1", clientID: "public", objectID: "oid", username: "alice", authorityHost: "http://127.0.0.1:9/"))
        let azure = azure(secrets: [])
        let resolution = try await resolver(Self.imds, azure).resolve(server, storedAt: nil)
        #expect(unavailable(resolution) == [.servicePrincipalSecret, .servicePrincipalCertificate, .workloadIdentity, .githubActions, .azurePipelines, .managedIdentity])
        guard case .used? = resolution.outcome(of: .identity(.signedInUser)) else { Issue.record("the sign-in is used"); return }
    }

    @Test func probingWritesNothing() async throws {
        let resolution = try await resolver(Self.sp, azure(), policy: .probing).resolve(server, storedAt: nil)
        #expect(derived(resolution)?.origin == .exchange)
        #expect(try store.allCachedTokens().isEmpty)
    }

    @Test func parallelResolutionsDeriveOnce() async throws {
        let azure = azure(delay: .milliseconds(100))
        async let one = resolver(Self.sp, azure).resolve(server, storedAt: nil)
        async let two = resolver(Self.sp, azure).resolve(server, storedAt: nil)
        let (a, b) = try await (one, two)
        #expect(derived(a)?.token == derived(b)?.token)
        #expect(azure.count("aad") == 1 && azure.count("exchange") == 1)
    }

    /// Saving costs a renewal no time: the Azure AD token is saved while the exchange is on the network, and
    /// the registry's token before the renewal's lock is released.
    @Test func tokensAreSavedWhileTheExchangeIsOnTheNetwork() async throws {
        let azure = azure(delay: .milliseconds(200))
        let watching = WatchingStore(store: store, lockPath: folder + "/locks/exchange-\(server.name).lock") { azure.count("exchange") }
        let resolution = try await resolver(Self.sp, azure, store: watching).resolve(server, storedAt: nil)
        #expect(derived(resolution)?.origin == .exchange)
        #expect(watching.saves[.azureADToken]?.exchangesAnswered == 0, "saved before the exchange answered")
        #expect(watching.saves[.acrRefreshToken]?.lockFree == false, "saved before the lock is released")
    }

    /// The binary Docker runs has a connection without a signer: it renews a secret's tokens itself, and
    /// leaves a certificate's to the engine before any request is made.
    @Test func withoutASignerOnlyCertificatesGoToTheEngine() async throws {
        let azure = azure()
        let secret = try await resolver(Self.sp, azure, signer: nil).resolve(server, storedAt: nil)
        #expect(derived(secret)?.origin == .exchange)
        #expect(azure.count("aad") == 1 && azure.count("exchange") == 1)
        let certificate = ["AZURE_TENANT_ID": "t1", "AZURE_CLIENT_ID": "c2", "AZURE_CLIENT_CERTIFICATE_PATH": folder + "/sp.pem", "PATH": "/nonexistent"]
        await #expect(throws: NetworkNeeded.self) {
            try await resolver(certificate, azure, policy: .probing, signer: nil).resolve(server, storedAt: nil)
        }
        #expect(azure.count("aad") == 1 && azure.count("exchange") == 1, "no request for the certificate")
    }

    /// A walk that begins while another process renews the registry takes that renewal's token without
    /// reading the store at all: here every read would fail, and nothing is asked of Azure.
    @Test func aRenewalUnderWayAnswersWithoutAReadOfTheStore() async throws {
        let azure = azure()
        let path = folder + "/locks/exchange-\(server.name).lock"
        let holder = try #require(try FileLock.acquireIfFree(path))
        holder.openToWaiters()
        let walk = Task { [server] in
            try await resolver(Self.sp, azure, store: ReadRefusingStore(store: store)).resolve(server, storedAt: try ServerAddress(server.name))
        }
        try await Task.sleep(for: .milliseconds(200))
        let key = TokenKey(kind: .acrRefreshToken, scope: server.name, identity: "\(IdentityKind.servicePrincipalSecret.rawValue):t1:c1")
        let token = CachedToken(token: "eyJ.renewed.elsewhere", expiresOn: clock.seconds + 10800, proof: Fingerprint.make(Array("good".utf8)))
        holder.answerWaiters(token.handoff(for: key))
        holder.release()
        let resolution = try await walk.value
        #expect(derived(resolution)?.token == token.token)
        #expect(azure.count("aad") == 0 && azure.count("exchange") == 0)
    }

    /// The engine a front hands a renewal to asks the store nothing the front found missing: here every
    /// read would fail, and the walk still derives the token.
    @Test func theEngineAsksNothingTheFrontFoundMissing() async throws {
        let azure = azure()
        let identity = "\(IdentityKind.servicePrincipalSecret.rawValue):t1:c1"
        var misses = StoreMisses()
        misses.noteCredential(try ServerAddress(server.name))
        misses.noteToken(TokenKey(kind: .acrRefreshToken, scope: server.name, identity: identity))
        misses.noteToken(TokenKey(kind: .azureADToken, scope: "\(server.cloud.name) \(ContainerRegistryResource.resource)", identity: identity))
        misses.writable = true
        var walk = Walk(
            resolver: resolver(Self.sp, azure, store: ReadRefusingStore(store: store)), resolution: Resolution(server: server),
            budget: RequestBudget(total: .seconds(5)))
        walk.misses = StoreMisses(misses.note)
        // Held since before the front read, as the engine inherits it.
        walk.lock = try FileLock.acquireIfFree(folder + "/locks/exchange-\(server.name).lock")
        try await walk.run(address: try ServerAddress(server.name), pinned: nil)
        #expect(derived(walk.resolution)?.origin == .exchange)
        #expect(azure.count("aad") == 1 && azure.count("exchange") == 1)
        #expect(!StoreMisses(misses.note).lacksToken(TokenKey(kind: .acrRefreshToken, scope: server.name, identity: "another")))
    }

    @Test func anExpiredStoredTokenIsPassedOver() async throws {
        let expired = ScriptedAzure.jwt(["exp": clock.seconds - 10])
        try store.save(Credential(serverURL: server.name, username: LoginServer.tokenUsername, secret: expired), for: ServerAddress(server.name))
        let none = try await resolver(["PATH": "/nonexistent"], azure()).resolve(server, storedAt: ServerAddress(server.name))
        #expect(throws: ACRError.self) { try none.credential(serverURL: server.name) }
        let renewed = try await resolver(Self.sp, azure()).resolve(server, storedAt: ServerAddress(server.name))
        #expect(derived(renewed)?.origin == .exchange)
    }

    @Test func theRenewalRuleIsOneForBothKinds() {
        let rule = RenewalRule(margin: 600)
        #expect(rule.verdict(1_000 + 601, now: 1_000) == .fresh)
        #expect(rule.verdict(1_000 + 600, now: 1_000) == .due)
        #expect(rule.verdict(1_000 + 30, now: 1_000) == .spent)
        #expect(CredentialResolver.azureADRule.margin == 300)
    }

    /// A 3-hour ACR token past half its life is renewed, one before it is not; without `iat`, the margin alone.
    @Test func tokensPastHalfTheirLifeAreRenewed() {
        let rule = ACRConfiguration().refreshRule(for: server)
        let issued: Int64 = 1_000, expires = issued + 10_800
        #expect(rule.verdict(expires, issuedAt: issued, now: issued + 5_399) == .fresh)
        #expect(rule.verdict(expires, issuedAt: issued, now: issued + 5_400) == .due)
        #expect(rule.renewal(expiresOn: expires, issuedAt: issued) == issued + 5_400)
        #expect(rule.verdict(expires, issuedAt: nil, now: issued + 9_000) == .fresh)
        #expect(RenewalRule(margin: 600, lifeShare: 0).renewal(expiresOn: expires, issuedAt: issued) == expires - 600)
    }

    @Test func fingerprintsMatchOnlyTheirSecretAndHideIt() {
        let print = Fingerprint.make(Array("s3cr3t".utf8))
        #expect(Fingerprint.matches(print, Array("s3cr3t".utf8)))
        #expect(!Fingerprint.matches(print, Array("other".utf8)))
        #expect(!print.contains("s3cr3t") && print != Fingerprint.make(Array("s3cr3t".utf8)), "salted")
        #expect(Fingerprint.matches(nil, nil) && !Fingerprint.matches(nil, [1]) && !Fingerprint.matches(print, nil))
    }
}

/// A file store that notes, at each token it saves, whether the renewal lock at `lockPath` was free.
final class WatchingStore: CredentialStore, TokenCache, @unchecked Sendable {
    let store: FileStore
    let lockPath: String
    let exchangesAnswered: () -> Int
    private(set) var saves: [TokenKey.Kind: (lockFree: Bool, exchangesAnswered: Int)] = [:]

    init(store: FileStore, lockPath: String, exchangesAnswered: @escaping () -> Int) {
        self.store = store
        self.lockPath = lockPath
        self.exchangesAnswered = exchangesAnswered
    }

    func saveToken(_ token: CachedToken, for key: TokenKey) throws {
        let lock = try FileLock.acquireIfFree(lockPath)
        saves[key.kind] = (lock != nil, exchangesAnswered())
        lock?.release()
        try store.saveToken(token, for: key)
    }

    func credential(for server: ServerAddress) async throws -> Credential? { try await store.credential(for: server) }
    func save(_ credential: Credential, for server: ServerAddress) throws { try store.save(credential, for: server) }
    func remove(_ server: ServerAddress) throws -> Bool { try store.remove(server) }
    func allUsernames() throws -> [String: String] { try store.allUsernames() }
    func cachedToken(for key: TokenKey) throws -> CachedToken? { try store.cachedToken(for: key) }
    func removeTokens(_ selector: TokenSelector) throws { try store.removeTokens(selector) }
    func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] { try store.allCachedTokens() }
    func checkWritable() throws { try store.checkWritable() }
}

/// A store whose reads fail: what a walk reads from it, it was not meant to.
final class ReadRefusingStore: CredentialStore, TokenCache, @unchecked Sendable {
    struct Refused: Error {}
    let store: FileStore

    init(store: FileStore) {
        self.store = store
    }

    func credential(for server: ServerAddress) async throws -> Credential? { throw Refused() }
    func cachedToken(for key: TokenKey) throws -> CachedToken? { throw Refused() }
    func checkWritable() throws { throw Refused() }
    func saveToken(_ token: CachedToken, for key: TokenKey) throws { try store.saveToken(token, for: key) }
    func save(_ credential: Credential, for server: ServerAddress) throws { try store.save(credential, for: server) }
    func remove(_ server: ServerAddress) throws -> Bool { try store.remove(server) }
    func allUsernames() throws -> [String: String] { try store.allUsernames() }
    func removeTokens(_ selector: TokenSelector) throws { try store.removeTokens(selector) }
    func allCachedTokens() throws -> [(key: TokenKey, token: CachedToken)] { try store.allCachedTokens() }
}
