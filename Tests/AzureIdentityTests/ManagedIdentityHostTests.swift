import HTTPTransport
import Testing
@testable import AzureIdentity

/// Each managed-identity host's request as MSAL sends it, each CI service's, and every `expires_on` form.
@Suite struct ManagedIdentityHostTests {
    let resource = "https://containerregistry.azure.net"

    func request(_ endpoint: ManagedIdentitySource.Endpoint, clientID: String? = nil) -> HTTPRequest {
        ManagedIdentitySource(endpoint: endpoint, clientID: clientID).request(resource: resource).0
    }

    func headers(_ request: HTTPRequest) -> [String: String] {
        Dictionary(request.headers.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func appServiceSendsItsHeaderAndMetadataAsAutomationNeeds() {
        let sent = request(.appService(url: "http://169.254.255.2:8081/msi/token", header: "h1"), clientID: "c1")
        #expect(sent.method == .get)
        #expect(sent.url == "http://169.254.255.2:8081/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fcontainerregistry.azure.net&client_id=c1")
        #expect(headers(sent) == ["X-IDENTITY-HEADER": "h1", "Metadata": "true"])
    }

    @Test func serviceFabricSendsItsSecretAndPinsTheCertificate() {
        let sent = request(.serviceFabric(url: "https://10.0.0.4:2377/metadata/identity/oauth2/token", secret: "s1", thumbprint: "AB12"), clientID: "c1")
        #expect(sent.url == "https://10.0.0.4:2377/metadata/identity/oauth2/token?api-version=2019-07-01-preview&resource=https%3A%2F%2Fcontainerregistry.azure.net")
        #expect(headers(sent) == ["Secret": "s1"] && sent.serverThumbprint == "AB12")
    }

    @Test func azureMLNamesItsDefaultIdentityUnlessOneIsChosen() {
        let host = ManagedIdentitySource.Endpoint.azureML(url: "http://127.0.0.1:46808/MSI/auth", secret: "s1", defaultClientID: "d1")
        #expect(request(host).url == "http://127.0.0.1:46808/MSI/auth?api-version=2017-09-01&resource=https%3A%2F%2Fcontainerregistry.azure.net&clientid=d1")
        #expect(request(host, clientID: "c1").url.hasSuffix("&clientid=c1"))
        #expect(headers(request(host)) == ["secret": "s1"])
    }

    @Test func cloudShellPostsAFormWithMetadata() {
        let sent = request(.cloudShell(url: "http://localhost:50342/oauth2/token"))
        #expect(sent.method == .post && sent.url == "http://localhost:50342/oauth2/token")
        #expect(String(decoding: sent.body, as: UTF8.self) == "resource=https%3A%2F%2Fcontainerregistry.azure.net")
        #expect(headers(sent) == ["Metadata": "true", "Content-Type": "application/x-www-form-urlencoded"])
    }

    @Test func arcAndIMDSAskWithMetadataAndTheirOwnVersions() {
        #expect(request(.azureArc(url: ManagedIdentitySource.arcURL)).url
            == "http://127.0.0.1:40342/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https%3A%2F%2Fcontainerregistry.azure.net")
        let imds = ManagedIdentitySource(endpoint: .imds(url: ManagedIdentitySource.imdsURL), clientID: nil).request(resource: resource)
        #expect(imds.0.url.contains("api-version=2018-02-01") && headers(imds.0) == ["Metadata": "true"])
        #expect(imds.retryingAlso == [404, 410])
    }

    @Test func aResourceIDNamesTheIdentityUnderEachHostsOwnName() {
        let id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet"
        #expect(request(.imds(url: ManagedIdentitySource.imdsURL), clientID: id).url.hasSuffix("&msi_res_id=%2Fsubscriptions%2Fs%2FresourceGroups%2Fg%2Fproviders%2FMicrosoft.ManagedIdentity%2FuserAssignedIdentities%2Fkubelet"))
        #expect(request(.appService(url: "http://127.0.0.1:1/msi", header: "h"), clientID: id).url.contains("&mi_res_id="))
    }

    @Test func ciServicesAreAskedAsTheirSDKsAsk() {
        let github = CIFederatedToken.githubActions(requestURL: "https://gh.example/idtoken?api-version=2.0", requestToken: "r1").request
        #expect(github.method == .get && github.url == "https://gh.example/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange")
        #expect(headers(github)["Authorization"] == "Bearer r1")
        let pipelines = CIFederatedToken.azurePipelines(requestURI: "https://dev.example/oidctoken", accessToken: "a1", serviceConnectionID: "sc1").request
        #expect(pipelines.method == .post && pipelines.url == "https://dev.example/oidctoken?api-version=7.1&serviceConnectionId=sc1")
        #expect(headers(pipelines) == ["Authorization": "Bearer a1", "Content-Type": "application/json", "X-TFS-FedAuthRedirect": "Suppress"])
    }

    @Test(arguments: [
        ("1764590400", 1_764_590_400), (" 1764590400", 1_764_590_400), ("1764590400.0", 1_764_590_400),
        ("12/01/2025 12:00:00", 1_764_590_400), ("12/01/2025 12:00:00 +00:00", 1_764_590_400),
        ("2025-12-01T12:00:00Z", 1_764_590_400), ("2025-12-01T12:00:00.123+00:00", 1_764_590_400),
        ("2025-12-01T13:30:00+01:30", 1_764_590_400), ("2025-12-01T10:00:00-02:00", 1_764_590_400),
        ("2000-02-29T00:00:00Z", 951_782_400),
    ] as [(String, Int64)])
    func everyExpiresOnFormMSALAccepts(text: String, seconds: Int64) {
        #expect(ExpiryTime.seconds(text) == seconds)
    }

    @Test(arguments: ["", "soon", "13/01/2025 12:00:00", "2025-12-01", "12/01/2025"])
    func whatIsNoTimeIsNil(text: String) {
        #expect(ExpiryTime.seconds(text) == nil)
    }
}
