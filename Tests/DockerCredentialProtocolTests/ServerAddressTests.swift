import Testing
@testable import DockerCredentialProtocol

@Suite struct ServerAddressTests {
    @Test(arguments: [
        "reg.example.com", "https://reg.example.com", "https://reg.example.com/", "http://Reg.Example.COM",
        "HTTPS://REG.EXAMPLE.COM//", "  reg.example.com\n", "https://reg.example.com/v2/", "reg.example.com/v1",
    ])
    func spellingsOfOneRegistryShareAKey(_ spelling: String) throws {
        #expect(try ServerAddress(spelling).key == "reg.example.com")
    }

    @Test func theOriginalIsKeptAsWrittenWithoutSurroundingWhitespace() throws {
        #expect(try ServerAddress(" https://Reg.Example.com/ \n").original == "https://Reg.Example.com/")
    }

    @Test func aDifferentPortIsADifferentRegistry() throws {
        #expect(try ServerAddress("reg.example.com:5000").key == "reg.example.com:5000")
        #expect(try ServerAddress("reg.example.com:5000").key != ServerAddress("reg.example.com:5001").key)
        #expect(try ServerAddress("reg.example.com:5000").key != ServerAddress("reg.example.com").key)
    }

    @Test(arguments: [
        "https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io", "https://registry.hub.docker.com",
    ])
    func dockerHubAnswersToAllItsNames(_ name: String) throws {
        #expect(try ServerAddress(name).key == ServerAddress.dockerHubKey)
    }

    @Test func otherPathsStayDistinct() throws {
        #expect(try ServerAddress("https://reg.example.com/team").key == "reg.example.com/team")
        #expect(try ServerAddress("docker.io/library").key == "docker.io/library")
    }

    @Test func ipv6HostsKeepTheirPort() throws {
        let address = try ServerAddress("http://[::1]:5000/")
        #expect(address.key == "[::1]:5000")
        #expect(address.host == "[::1]")
        #expect(try ServerAddress("[::1]").key == "[::1]")
    }

    /// nerdctl asks for `host:443`, then `https://host:443`, then `host`: all one registry.
    @Test func httpsDefaultPortIsTheSameRegistry() throws {
        for spelling in ["reg.example.com:443", "https://reg.example.com:443/", "https://REG.example.com:443/v2/"] {
            #expect(try ServerAddress(spelling).key == "reg.example.com")
        }
        #expect(try ServerAddress("http://reg.example.com:443").key == "reg.example.com:443")
        #expect(try ServerAddress("reg.example.com:5000").key == "reg.example.com:5000")
    }

    @Test func hostDropsThePortAndPath() throws {
        #expect(try ServerAddress("https://Myreg.azurecr.io:443/v2/").host == "myreg.azurecr.io")
    }

    @Test(arguments: [
        ("", ServerAddressError.empty), ("   \n", .empty),
        ("reg example.com", .invalidCharacter), ("reg.example.com\u{7F}", .invalidCharacter),
        ("reg.example.com\u{0}", .invalidCharacter),
        ("ftp://reg.example.com", .unsupportedScheme("ftp")),
        ("https://user:pw@reg.example.com", .userInfo), ("user@reg.example.com", .userInfo),
        ("reg.example.com?x=1", .queryOrFragment), ("reg.example.com#frag", .queryOrFragment),
        ("https://", .invalidHost), (":5000", .invalidHost), ("[::1", .invalidHost), ("[::1]x", .invalidHost),
        ("reg.example.com:", .invalidPort), ("reg.example.com:0", .invalidPort),
        ("reg.example.com:65536", .invalidPort), ("reg.example.com:http", .invalidPort),
    ])
    func malformedAddressesAreRejected(_ text: String, _ expected: ServerAddressError) {
        #expect(throws: expected) { try ServerAddress(text) }
    }

    /// Image references allow only ASCII hosts; a Unicode host would be a second entry beside its punycode.
    @Test func unicodeHostsAreRefusedAndPunycodeIsAnyHost() throws {
        #expect(throws: ServerAddressError.nonASCIIHost) { try ServerAddress("https://RÉG.example") }
        #expect(try ServerAddress("XN--RG-9IA.example").key == "xn--rg-9ia.example")
    }

    @Test func aPortIsItsNumber() throws {
        #expect(try ServerAddress("reg.example.com:05000").key == "reg.example.com:5000")
    }

    /// Only a real scheme is echoed: anything before "://" could be a pasted secret.
    @Test func textBeforeSchemeSeparatorIsNotEchoed() {
        #expect(throws: ServerAddressError.invalidHost) { try ServerAddress(#"{"Secret":"leak","ServerURL":"https://x"#) }
    }
}
