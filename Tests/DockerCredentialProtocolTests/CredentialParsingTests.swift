import Testing
@testable import DockerCredentialProtocol

@Suite struct CredentialParsingTests {
    private func parse(_ text: String) throws(CredentialHelperError) -> Credential {
        try CredentialHelper.parseCredential(Array(text.utf8))
    }

    @Test func aDockerStoreRequest() throws {
        let credential = try parse(#"{"ServerURL":"https://reg.example.com","Username":"u","Secret":"s"}"#)
        #expect(credential == Credential(serverURL: "https://reg.example.com", username: "u", secret: "s"))
    }

    @Test func identityTokensAndExtraFieldsAreAccepted() throws {
        let credential = try parse(#"{"ServerURL":"r","Username":"<token>","Secret":"t","Extra":[1]}"#)
        #expect(credential.username == Credential.identityTokenUsername)
    }

    @Test(arguments: [
        (#"{"Username":"u","Secret":"s"}"#, CredentialHelperError.missingServerURL),
        (#"{"ServerURL":"","Username":"u","Secret":"s"}"#, .missingServerURL),
        (#"{"ServerURL":null,"Username":"u","Secret":"s"}"#, .missingServerURL),
        (#"{"ServerURL":"r","Secret":"s"}"#, .missingUsername),
        (#"{"ServerURL":"r","Username":"u"}"#, .missingSecret),
        (#"{"ServerURL":"r","Username":"u","Secret":""}"#, .missingSecret),
        (#"{"ServerURL":"r","Username":"u","Secret":42}"#, .invalidJSON("\"Secret\" must be a string")),
        (#"{"ServerURL":["r"],"Username":"u","Secret":"s"}"#, .invalidJSON("\"ServerURL\" must be a string")),
        (#"["r","u","s"]"#, .invalidJSON("the input is not a JSON object")),
        ("not json", .invalidJSON("the input is not valid JSON")),
        (#"{"ServerURL":"r","Username":"u","Secret":"s""#, .invalidJSON("the input is not valid JSON")),
        ("", .invalidJSON("stdin is empty")), (" \n\t", .invalidJSON("stdin is empty")),
        (#"{"ServerURL":"r","Username":"u","Secret":"a\u0000b"}"#, .nulCharacter(field: "Secret")),
    ])
    func badInputGetsItsOwnError(_ input: String, _ expected: CredentialHelperError) {
        #expect(throws: expected) { try parse(input) }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: CredentialHelperError.inputNotUTF8) {
            try CredentialHelper.parseCredential([0x7B, 0xFF, 0xFE, 0x7D])
        }
    }

    @Test func oversizedInputIsRejectedBeforeParsing() {
        let input = [UInt8](repeating: 0x20, count: CredentialHelper.maximumInputBytes + 1)
        #expect(throws: CredentialHelperError.inputTooLarge(limit: CredentialHelper.maximumInputBytes)) {
            try CredentialHelper.parseCredential(input)
        }
    }

    @Test func noErrorMessageContainsTheSecret() {
        let secret = "hunter2-\(UInt64.random(in: 0...UInt64.max))"
        for input in [
            #"{"ServerURL":"r","Username":"u","Secret":"\#(secret)","#,
            #"{"ServerURL":"r","Username":"u","Secret":["\#(secret)"]}"#,
            #"{"ServerURL":"r\#(secret) x","Username":"u","Secret":"\#(secret)"}"#,
        ] {
            do {
                let credential = try parse(input)
                _ = try CredentialHelper.address(credential.serverURL)
                Issue.record("expected an error for \(input.count) bytes of input")
            } catch {
                #expect(!error.description.contains(secret))
            }
        }
    }

    @Test func sentinelsAreExactlyDockersTexts() {
        #expect(CredentialHelperError.credentialsNotFound.description == "credentials not found in native keychain")
        #expect(CredentialHelperError.missingServerURL.description == "no credentials server URL")
        #expect(CredentialHelperError.missingUsername.description == "no credentials username")
        #expect(CredentialHelperError.credentialsNotFound.isSentinel)
        #expect(!CredentialHelperError.inputNotUTF8.isSentinel)
    }
}
