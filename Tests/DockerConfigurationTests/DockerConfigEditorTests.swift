import Foundation
import Testing
@testable import DockerConfiguration

@Suite struct DockerConfigEditorTests {
    let folder: String
    let path: String
    let editor: DockerConfigEditor

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("docker-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        path = folder + "/config.json"
        editor = DockerConfigEditor(path: path)
    }

    private func write(_ text: String, to file: String? = nil, mode: Int = 0o600) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file ?? path))
        chmod(file ?? path, mode_t(mode))
    }

    private func contents(_ file: String? = nil) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: file ?? path)), as: UTF8.self)
    }

    private func mode(_ file: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as! NSNumber).intValue
    }

    private func inode(_ file: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: file)[.systemFileNumber] as! NSNumber).intValue
    }

    @discardableResult
    private func configure(_ change: ConfigChange) throws(DockerConfigurationError) -> ConfigPlan {
        let plan = try editor.plan(change)
        try editor.apply(plan)
        return plan
    }

    private func refusal(_ change: ConfigChange = .global) -> DockerConfigurationError? {
        do {
            try configure(change)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Configure

    @Test func globalChangesOnlyTheCredsStoreLineAndBacksUpTheFile() throws {
        try write(JSONValueTests.rich)
        let plan = try configure(.global)
        let expected = JSONValueTests.rich.replacingOccurrences(of: #""credsStore": "desktop""#, with: #""credsStore": "acr""#)
        #expect(try contents() == expected)
        #expect(try contents(editor.backupPath) == JSONValueTests.rich)
        #expect(try mode(editor.backupPath) == 0o600)
        #expect(plan.summary.contains(#"credsStore: "desktop" → "acr""#))
        #expect(!plan.summary.contains("layout"))
        #expect(plan.diff.contains("-\t\"credsStore\": \"desktop\",\n+\t\"credsStore\": \"acr\",\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            == ["config.json", "config.json.bak-docker-credential-acr"])
    }

    @Test func registriesAreNormalisedAndAppendedAfterTheOtherKeys() throws {
        try write("{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t}\n}\n")
        try configure(.registries(["HTTPS://MyReg.AzureCR.io/", "other.example:5000", "myreg.azurecr.io", "docker.io"]))
        #expect(try contents() == """
            {
            \t"auths": {},
            \t"credHelpers": {
            \t\t"gcr.io": "gcloud",
            \t\t"myreg.azurecr.io": "acr",
            \t\t"other.example:5000": "acr",
            \t\t"https://index.docker.io/v1/": "acr"
            \t}
            }

            """)
    }

    @Test func duplicateKeysAreKeptAndEverySettingOfTheNameIsSet() throws {
        try write(#"{"a": 1, "a": 2, "credsStore": "x", "credsStore": "y"}"#)
        try configure(.global)
        #expect(try contents() == "{\n\t\"a\": 1,\n\t\"a\": 2,\n\t\"credsStore\": \"acr\",\n\t\"credsStore\": \"acr\"\n}")
    }

    @Test func aNewFileIsCreatedPrivateInAPrivateFolder() throws {
        let editor = DockerConfigEditor(path: folder + "/home/.docker/config.json")
        let plan = try editor.plan(.registries(["myreg.azurecr.io"]))
        #expect(plan.summary.contains("(new file)"))
        #expect(plan.diff.hasPrefix("--- /dev/null\n"))
        try editor.apply(plan)
        #expect(try contents(editor.path) == "{\n\t\"credHelpers\": {\n\t\t\"myreg.azurecr.io\": \"acr\"\n\t}\n}\n")
        #expect(try mode(editor.path) == 0o600)
        #expect(try mode(folder + "/home/.docker") == 0o700)
        #expect(!FileManager.default.fileExists(atPath: editor.backupPath))
    }

    @Test func anEmptyFileIsAnEmptyConfiguration() throws {
        try write("")
        try configure(.global)
        #expect(try contents() == "{\n\t\"credsStore\": \"acr\"\n}\n")
        #expect(try contents(editor.backupPath) == "")
    }

    @Test func theFileModeIsKept() throws {
        try write(#"{"auths": {}}"#, mode: 0o644)
        try configure(.global)
        #expect(try mode(path) == 0o644)
        #expect(try mode(editor.backupPath) == 0o600)
    }

    @Test func aSecondRunChangesNothing() throws {
        try write(JSONValueTests.rich)
        try configure(.global)
        try configure(.registries(["myreg.azurecr.io"]))
        let file = try contents(), node = try inode(path), backup = try contents(editor.backupPath)

        let global = try configure(.global)
        let registry = try configure(.registries(["https://myreg.azurecr.io"]))
        #expect(global.isNoChange && global.diff.isEmpty)
        #expect(global.summary == "\(path) already sends every registry to docker-credential-acr (credsStore); nothing to change")
        #expect(registry.isNoChange)
        #expect(registry.summary.hasSuffix("already sends myreg.azurecr.io to docker-credential-acr (credHelpers); nothing to change"))
        #expect(try contents() == file && inode(path) == node && contents(editor.backupPath) == backup)
    }

    @Test func aFileInAnotherLayoutIsLeftAloneWhenNothingChanges() throws {
        let handWritten = "{\n  \"credsStore\": \"acr\"\n}\n"
        try write(handWritten)
        #expect(try configure(.global).isNoChange)
        #expect(try contents() == handWritten)
        try write("{\n  \"auths\": {}\n}\n")
        #expect(try editor.plan(.global).summary.contains("rewritten in Docker's layout"))
    }

    @Test func aDryRunWritesNothing() throws {
        try write(JSONValueTests.rich)
        let plan = try editor.plan(.registries(["myreg.azurecr.io"]))
        #expect(!plan.isNoChange)
        #expect(plan.diff.contains("+\t\"credHelpers\": {\n+\t\t\"myreg.azurecr.io\": \"acr\"\n"))
        #expect(try contents() == JSONValueTests.rich)
        #expect(!FileManager.default.fileExists(atPath: editor.backupPath))
    }

    @Test func aPlanIsNotAppliedToAFileThatChangedSince() throws {
        try write(#"{"auths": {}}"#)
        let plan = try editor.plan(.global)
        try write(#"{"auths": {"r.example": {}}}"#)
        #expect(throws: DockerConfigurationError.changedSincePlanned(path: path)) { try editor.apply(plan) }
        #expect(try contents() == #"{"auths": {"r.example": {}}}"#)
    }

    @Test func globalNotesRegistriesThatKeepTheirOwnHelper() throws {
        try write(#"{"credHelpers": {"gcr.io": "gcloud", "r.azurecr.io": "acr"}}"#)
        #expect(try editor.plan(.global).summary.contains("credHelpers still sends gcr.io to other helpers"))
    }

    // MARK: - Refusals

    @Test func aFileThatIsNotJSONIsRefusedAndLeftAlone() throws {
        try write("{\n\t\"auths\": {},\n}")
        #expect(refusal() == .invalidJSON(path: path, detail: "line 3, column 1: expected a member name in double quotes"))
        #expect(refusal()?.description.hasSuffix("fix it by hand, then run configure again") == true)
        #expect(try contents() == "{\n\t\"auths\": {},\n}")
        #expect(!FileManager.default.fileExists(atPath: editor.backupPath))
    }

    @Test func aFileThatIsNotAnObjectIsRefused() throws {
        try write(#"[{"credsStore": "desktop"}]"#)
        #expect(refusal() == .notAnObject(path: path, kind: "an array"))
        try write(#"{"credHelpers": "acr"}"#)
        #expect(refusal(.registries(["r.example"])) == .unexpectedType(path: path, key: "credHelpers", expected: "an object of strings"))
        try write(#"{"credsStore": 1}"#)
        #expect(refusal() == .unexpectedType(path: path, key: "credsStore", expected: "a string"))
    }

    @Test func registriesMustBeHosts() throws {
        #expect(refusal(.registries([])) == .noRegistry)
        #expect(refusal(.registries(["r.example/team"]))?.description.contains("without a path") == true)
        #expect(refusal(.registries(["ftp://r.example"]))?.description.contains("scheme 'ftp'") == true)
        #expect(refusal(.registries(["user@r.example"]))?.description.contains("user name") == true)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func pathsThatCannotBeUsedAreRefused() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        #expect(refusal() == .notRegularFile(path: path))

        try write("{}", to: folder + "/file")
        let underAFile = DockerConfigEditor(path: folder + "/file/config.json")
        #expect(throws: DockerConfigurationError.unreadable(path: underAFile.path, reason: "Not a directory")) {
            try underAFile.plan(.global)
        }

        try FileManager.default.removeItem(atPath: path)
        try write("{}")
        // Where the temporary file would go, something that cannot be written.
        try FileManager.default.createDirectory(atPath: path + ".tmp-\(getpid())", withIntermediateDirectories: false)
        #expect(refusal() == .unwritable(path: path, reason: "Is a directory"))
        #expect(try contents() == "{}")
    }

    @Test(.enabled(if: geteuid() == 0, "only root can give a file away"))
    func aFileOfAnotherUserIsRefused() throws {
        try write("{}")
        chown(path, 4242, 4242)
        #expect(refusal() == .notOwned(path: path, owner: 4242, user: 0))
        #expect(refusal()?.description.contains("run configure as that user") == true)
    }

    // MARK: - Symbolic links

    @Test func aLinkedFileIsReplacedAndTheLinkKept() throws {
        try FileManager.default.createDirectory(atPath: folder + "/dotfiles", withIntermediateDirectories: true)
        try write(#"{"auths": {}}"#, to: folder + "/dotfiles/docker.json", mode: 0o640)
        symlink("dotfiles/docker.json", path)
        let plan = try configure(.global)
        #expect(plan.summary.hasPrefix("\(path) (a link to \(folder)/dotfiles/docker.json):"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path) == "dotfiles/docker.json")
        #expect(try contents(folder + "/dotfiles/docker.json") == "{\n\t\"auths\": {},\n\t\"credsStore\": \"acr\"\n}")
        #expect(try mode(folder + "/dotfiles/docker.json") == 0o640)
        #expect(try contents(editor.backupPath) == #"{"auths": {}}"#)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/dotfiles") == ["docker.json"])
    }

    @Test func aLinkToNothingIsRefused() throws {
        symlink(folder + "/missing.json", path)
        #expect(refusal() == .danglingLink(path: path, destination: folder + "/missing.json"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/missing.json"))
    }

    // MARK: - Undo

    @Test func undoRestoresThePreviousSettingsAndKeepsLaterChanges() throws {
        let original = "{\n\t\"auths\": {},\n\t\"credHelpers\": {\n\t\t\"gcr.io\": \"gcloud\"\n\t},\n\t\"credsStore\": \"desktop\"\n}"
        try write(original)
        try configure(.global)
        try configure(.registries(["gcr.io", "myreg.azurecr.io"]))
        #expect(try contents(editor.backupPath) == original)
        // A docker login since then.
        try write(try contents().replacingOccurrences(of: "\"auths\": {}", with: "\"auths\": {\n\t\t\"r.example\": {}\n\t}"))

        let plan = try configure(.undo)
        #expect(plan.summary.contains(#"credsStore: "acr" → "desktop""#))
        #expect(plan.summary.contains(#"credHelpers["myreg.azurecr.io"]: "acr" → (none)"#))
        #expect(try contents() == original.replacingOccurrences(of: "\"auths\": {}", with: "\"auths\": {\n\t\t\"r.example\": {}\n\t}"))
        #expect(try configure(.undo).summary == "\(path) names acr nowhere; nothing to undo")
    }

    @Test func aDryRunShowsNoProxyPassword() throws {
        try write(#"{"proxies": {"default": {"httpsProxy": "http://alice:pr0xy-pass@proxy.corp:3128", "noProxy": "*.corp"}}}"#)
        let plan = try editor.plan(.global)
        #expect(!plan.diff.contains("pr0xy-pass") && !plan.diff.contains("alice"))
        #expect(plan.diff.contains("http://…@proxy.corp:3128"))
    }

    @Test func containersAuthFilesKeyDockerHubTheirWayAndTakeNoCredsStore() throws {
        let editor = DockerConfigEditor(containersAuthFile: path)
        try editor.apply(try editor.plan(.registries(["docker.io", "MyReg.azurecr.io"])))
        #expect(try contents() == "{\n\t\"credHelpers\": {\n\t\t\"docker.io\": \"acr\",\n\t\t\"myreg.azurecr.io\": \"acr\"\n\t}\n}\n")
        let files = DockerConfigEditor.containersAuthFiles(environment: ["HOME": "/home/u", "XDG_RUNTIME_DIR": folder])
        #expect(files == ["/home/u/.config/containers/auth.json"])
        #expect(DockerConfigEditor.containersAuthFiles(environment: ["REGISTRY_AUTH_FILE": "/x/auth.json", "HOME": "/home/u"]) == ["/x/auth.json"])
    }

    /// Nothing changed since configure: undo gives back the very bytes, in a layout that is not Docker's.
    @Test(arguments: ["{\"auths\": {\"r.example\": {}}, \"credsStore\": \"desktop\"}", "{\n  \"auths\": {}\n}\n", ""])
    func undoGivesBackTheExactBytes(original: String) throws {
        try write(original)
        try configure(.global)
        #expect(try contents() != original)
        let plan = try configure(.undo)
        #expect(plan.summary.contains("the file gets back its bytes"))
        #expect(try contents() == original)
    }

    @Test func undoWithoutBackupRemovesOnlyWhatNamesAcr() throws {
        try write(#"{"credsStore": "acr", "credHelpers": {"a.example": "acr", "b.example": "ecr-login"}, "x": [1e3]}"#)
        try configure(.undo)
        #expect(try contents() == "{\n\t\"credHelpers\": {\n\t\t\"b.example\": \"ecr-login\"\n\t},\n\t\"x\": [\n\t\t1e3\n\t]\n}")
        // The file before the undo is kept.
        #expect(try contents(editor.backupPath).hasPrefix(#"{"credsStore": "acr""#))

        try FileManager.default.removeItem(atPath: editor.backupPath)
        try write(#"{"credHelpers": {"a.example": "acr"}, "auths": {}}"#)
        try configure(.undo)
        #expect(try contents() == "{\n\t\"auths\": {}\n}")
    }

    @Test func undoLeavesASettingChangedSinceAsItIs() throws {
        try write(#"{"credsStore": "desktop"}"#)
        try configure(.global)
        try write(#"{"credsStore": "pass"}"#)
        let plan = try configure(.undo)
        #expect(plan.isNoChange)
        #expect(try contents() == #"{"credsStore": "pass"}"#)
        // And a new configure backs up the new setting.
        try configure(.global)
        #expect(try contents(editor.backupPath) == #"{"credsStore": "pass"}"#)
    }

    @Test func undoRefusesABackupItCannotRead() throws {
        try write(#"{"credsStore": "acr"}"#)
        try write("not json", to: editor.backupPath)
        #expect(refusal(.undo) == .invalidBackup(path: editor.backupPath, detail: "line 1, column 1: unexpected character, a value was expected"))
        #expect(try contents() == #"{"credsStore": "acr"}"#)
    }

    @Test func undoWithoutFileDoesNothing() throws {
        let plan = try configure(.undo)
        #expect(plan.isNoChange)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func theDefaultPathFollowsDockerConfig() {
        #expect(DockerConfigEditor.defaultPath(environment: ["DOCKER_CONFIG": "/d", "HOME": "/h"]) == "/d/config.json")
        #expect(DockerConfigEditor.defaultPath(environment: ["HOME": "/h"]) == "/h/.docker/config.json")
    }
}
