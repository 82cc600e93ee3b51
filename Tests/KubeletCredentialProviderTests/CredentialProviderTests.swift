import Foundation
import Testing
@testable import KubeletCredentialProvider

@Suite struct CredentialProviderTests {
    /// The request shape from the Kubernetes documentation ("Configure a kubelet image credential provider").
    @Test func documentedRequest() throws {
        let request = try CredentialProviderRequest(json: Array(#"""
            {"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"myregistry.azurecr.io/team/app:1.2"}
            """#.utf8))
        #expect(request.apiVersion == "credentialprovider.kubelet.k8s.io/v1")
        #expect(request.registry == "myregistry.azurecr.io")
    }

    @Test(arguments: [
        ("myregistry.azurecr.io/app@sha256:0123", "myregistry.azurecr.io"),
        ("MyRegistry.azurecr.io/app", "myregistry.azurecr.io"),
        ("localhost:5000/app", "localhost:5000"),
        ("nginx", "docker.io"),
        ("library/nginx:1", "docker.io"),
        ("ghcr.io/owner/app", "ghcr.io"),
    ])
    func registries(_ image: String, _ registry: String) throws {
        let request = try CredentialProviderRequest(json: Array(
            #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"\#(image)"}"#.utf8))
        #expect(request.registry == registry)
    }

    @Test(arguments: [
        ("not json", KubeletPluginError.notJSON),
        (#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Pod","image":"x"}"#, .wrongKind("Pod")),
        (#"{"apiVersion":"v9","kind":"CredentialProviderRequest","image":"x"}"#, .unsupportedVersion("v9")),
        (#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest"}"#, .noImage),
    ])
    func badRequests(_ json: String, _ error: KubeletPluginError) {
        #expect(throws: error) { try CredentialProviderRequest(json: Array(json.utf8)) }
    }

    @Test func responseHasTheDocumentedShape() throws {
        let response = CredentialProviderResponse(
            apiVersion: "credentialprovider.kubelet.k8s.io/v1", registry: "myregistry.azurecr.io",
            username: "00000000-0000-0000-0000-000000000000", password: "token", cacheSeconds: 2 * 3600 + 49 * 60 + 30)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.json.utf8)) as? [String: Any])
        #expect(object["kind"] as? String == "CredentialProviderResponse")
        #expect(object["apiVersion"] as? String == "credentialprovider.kubelet.k8s.io/v1")
        #expect(object["cacheKeyType"] as? String == "Registry")
        #expect(object["cacheDuration"] as? String == "2h49m30s")
        let auth = try #require(object["auth"] as? [String: [String: String]])
        #expect(auth == ["myregistry.azurecr.io": ["username": "00000000-0000-0000-0000-000000000000", "password": "token"]])
    }

    /// v1 responses are decoded strictly by the kubelet: an unknown or duplicate field drops the answer.
    /// The exact bytes, for every apiVersion the plugin takes (each answers in the version it was asked in).
    @Test(arguments: CredentialProviderRequest.apiVersions)
    func exactBytes(_ version: String) {
        #expect(CredentialProviderResponse.empty(apiVersion: version).json
            == #"{"apiVersion":"\#(version)","auth":{},"cacheDuration":"0s","cacheKeyType":"Registry","kind":"CredentialProviderResponse"}"# + "\n")
        let filled = CredentialProviderResponse(
            apiVersion: version, registry: "MyReg.azurecr.io", username: "00000000-0000-0000-0000-000000000000", password: "t0k3n", cacheSeconds: 600)
        #expect(filled.json == #"{"apiVersion":"\#(version)","auth":{"MyReg.azurecr.io":{"password":"t0k3n","username":"00000000-0000-0000-0000-000000000000"}},"cacheDuration":"10m0s","cacheKeyType":"Registry","kind":"CredentialProviderResponse"}"# + "\n")
    }

    @Test func theKeyKeepsTheImagesSpellingAndTheLookupIgnoresCase() throws {
        let request = try CredentialProviderRequest(json: Array(
            #"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"MyReg.AzureCR.io:443/app"}"#.utf8))
        #expect(request.host == "MyReg.AzureCR.io:443" && request.registry == "myreg.azurecr.io:443")
    }

    /// KEP-4412's request fields (Kubernetes 1.34, `tokenAttributes` in the provider config).
    @Test func serviceAccountTokenAndAnnotations() throws {
        let request = try CredentialProviderRequest(json: Array(#"""
            {"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"r.azurecr.io/a",
             "serviceAccountToken":"eyJ.sa.token","serviceAccountAnnotations":{"kubernetes.azure.com/acr-client-id":"c1"}}
            """#.utf8))
        #expect(request.serviceAccountToken == "eyJ.sa.token")
        #expect(request.serviceAccountAnnotations == ["kubernetes.azure.com/acr-client-id": "c1"])
    }

    @Test func goDurations() {
        #expect(CredentialProviderResponse.goDuration(0) == "0s")
        #expect(CredentialProviderResponse.goDuration(-5) == "0s")
        #expect(CredentialProviderResponse.goDuration(300) == "5m0s")
        #expect(CredentialProviderResponse.goDuration(3600) == "1h0m0s")
    }
}

@Suite struct NodeSettingsTests {
    @Test func mirrorsMapSourcesToTargetsAndRefuseOtherForms() throws {
        let mirrors = try RegistryMirrors(["MCR.microsoft.com:myreg.azurecr.io"])
        #expect(mirrors.target(of: "mcr.microsoft.com") == "myreg.azurecr.io")
        #expect(mirrors.target(of: "ghcr.io") == "ghcr.io")
        #expect(throws: KubeletPluginError.badMirror("a:b:c")) { try RegistryMirrors(["a:b:c"]) }
    }

    /// The environment wins; the file fills in; a managed-identity cluster gives the kubelet identity.
    @Test func azureJSONFillsInWhatTheEnvironmentLeavesUnset() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("azure-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"tenantId":"t1","useManagedIdentityExtension":true,"userAssignedIdentityID":"/subscriptions/s/x","aadClientId":"msi"}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let node = try #require(try AKSNodeConfiguration.read(path))
        #expect(node.environment(over: [:]) == ["AZURE_TENANT_ID": "t1", "AZURE_CLIENT_ID": "/subscriptions/s/x"])
        #expect(node.environment(over: ["AZURE_TENANT_ID": "t0"])["AZURE_TENANT_ID"] == "t0")
        try Data(#"{"tenantId":"t1","aadClientId":"app","aadClientSecret":"s"}"#.utf8).write(to: URL(fileURLWithPath: path))
        let principal = try #require(try AKSNodeConfiguration.read(path))
        #expect(principal.environment(over: [:]) == ["AZURE_TENANT_ID": "t1", "AZURE_CLIENT_ID": "app", "AZURE_CLIENT_SECRET": "s"])
        #expect(principal.environment(over: ["AZURE_CLIENT_ID": "mine"])["AZURE_CLIENT_SECRET"] == nil, "the environment's identity is whole")
        #expect(try AKSNodeConfiguration.read(path + ".absent") == nil)
    }

    /// A custom cloud's registry suffix, with its cloud where the name is one of the known clouds.
    @Test func azureJSONNamesACustomRegistrySuffix() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("azure-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"cloud":"AzureUSGovernmentCloud","containerRegistryDNSSuffix":".azurecr.my.cloud"}"#.utf8).write(to: URL(fileURLWithPath: path))
        let node = try #require(try AKSNodeConfiguration.read(path))
        #expect(node.environment(over: [:]) == ["DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES": ".azurecr.my.cloud=AzureUSGovernment"])
        #expect(node.environment(over: ["DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES": ".mine"])["DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES"] == ".mine")
        try Data(#"{"cloud":"AzureStackCloud","containerRegistryDNSSuffix":"azurecr.stack.example"}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try #require(try AKSNodeConfiguration.read(path)).environment(over: [:])
            == ["DOCKER_CREDENTIAL_ACR_REGISTRY_SUFFIXES": "azurecr.stack.example"])
    }
}
