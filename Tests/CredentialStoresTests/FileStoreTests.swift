import DockerCredentialProtocol
import Foundation
import Testing
@testable import CredentialStores

@Suite struct FileStoreTests {
    let root: String
    let store: FileStore

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("filestore-\(UUID().uuidString)").path
        store = FileStore(directory: root + "/data/docker-credential-acr")
    }

    private func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    @Test func roundTrip() async throws { try await StoreBehaviour.roundTripFindsEverySpelling(store) }
    @Test func cachedTokensKeepTheirProof() throws { try StoreBehaviour.cachedTokensKeepTheirProof(store) }
    @Test func replace() async throws { try await StoreBehaviour.savingAnotherSpellingReplacesTheEntry(store) }
    @Test func remove() async throws { try await StoreBehaviour.removeDropsEverySpellingAndSaysWhetherThereWasOne(store) }
    @Test func tokensAndPorts() async throws { try await StoreBehaviour.identityTokensAndPortsAreKeptApart(store) }

    @Test func anEmptyStoreReadsAsEmptyWithoutCreatingAnything() throws {
        #expect(try store.allUsernames().isEmpty)
        #expect(try store.credential(for: ServerAddress("reg.example.com")) == nil)
        #expect(!FileManager.default.fileExists(atPath: store.directory))
    }

    @Test func filesArePrivate() throws {
        try store.save(Credential(serverURL: "r.example", username: "u", secret: "s"), for: ServerAddress("r.example"))
        #expect(try mode(store.directory) == 0o700)
        #expect(try mode(store.file) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func aFileOthersCanReadIsRefusedAndLeftAlone() throws {
        try store.save(Credential(serverURL: "r.example", username: "u", secret: "s"), for: ServerAddress("r.example"))
        chmod(store.file, 0o644)
        let before = try Data(contentsOf: URL(fileURLWithPath: store.file))
        #expect(throws: FileStoreError.insecure(path: store.file, mode: UInt32(S_IFREG) | 0o644)) {
            try store.credential(for: ServerAddress("r.example"))
        }
        #expect(throws: FileStoreError.self) {
            try store.save(Credential(serverURL: "x.example", username: "u", secret: "s"), for: ServerAddress("x.example"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.file)) == before)
    }

    @Test func aFolderOthersCanEnterIsRefused() throws {
        try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true)
        chmod(store.directory, 0o755)
        #expect(throws: FileStoreError.insecure(path: store.directory, mode: UInt32(S_IFDIR) | 0o755)) {
            try store.save(Credential(serverURL: "r.example", username: "u", secret: "s"), for: ServerAddress("r.example"))
        }
        #expect(!FileManager.default.fileExists(atPath: store.file))
    }

    @Test func aCorruptFileIsReportedAndNeverOverwritten() throws {
        try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let garbage = Data("{\"version\":1,\"credentials\":{\"r\":".utf8)
        FileManager.default.createFile(atPath: store.file, contents: garbage, attributes: [.posixPermissions: 0o600])
        #expect(throws: FileStoreError.corrupt(store.file)) {
            try store.save(Credential(serverURL: "r.example", username: "u", secret: "s"), for: ServerAddress("r.example"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.file)) == garbage)
    }

    @Test func aSymbolicLinkIsNotFollowed() throws {
        try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: store.file, withDestinationPath: "/etc/hostname")
        #expect(throws: FileStoreError.notRegular(path: store.file)) { try store.allUsernames() }
    }

    @Test func concurrentWritersLoseNothing() async throws {
        let directory = store.directory
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let server = "reg\(index).example.com"
                    try FileStore(directory: directory).save(
                        Credential(serverURL: server, username: "u\(index)", secret: "s\(index)"), for: ServerAddress(server))
                }
            }
            try await group.waitForAll()
        }
        let all = try store.allUsernames()
        #expect(all.count == 64)
        #expect((0..<64).allSatisfy { all["reg\($0).example.com"] == "u\($0)" })
    }

    @Test func theDefaultFolderFollowsXDGDataHome() {
        #expect(FileStore.defaultDirectory(environment: ["XDG_DATA_HOME": "/x/data", "HOME": "/home/u"])
            == "/x/data/docker-credential-acr")
        #expect(FileStore.defaultDirectory(environment: ["XDG_DATA_HOME": "relative", "HOME": "/home/u"])
            == "/home/u/.local/share/docker-credential-acr")
        #expect(FileStore.defaultDirectory(environment: ["HOME": "/home/u"]) == "/home/u/.local/share/docker-credential-acr")
    }
}

@Suite struct StoreChoiceTests {
    @Test func choiceComesFromTheEnvironment() throws {
        #expect(try StoreChoice(environment: [:]) == .auto)
        #expect(try StoreChoice(environment: ["DOCKER_CREDENTIAL_ACR_STORE": ""]) == .auto)
        #expect(try StoreChoice(environment: ["DOCKER_CREDENTIAL_ACR_STORE": "file"]) == .file)
        #expect(try StoreChoice(environment: ["DOCKER_CREDENTIAL_ACR_STORE": "SecretService"]) == .secretService)
        #expect(throws: StoreChoiceError.self) { try StoreChoice(environment: ["DOCKER_CREDENTIAL_ACR_STORE": "pass"]) }
    }
}
