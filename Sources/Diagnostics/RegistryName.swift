import ACRTokenExchange
import AzureIdentity
import DockerCredentialProtocol

/// What a name given to `diagnose` stands for, with the login server to check when it can be inferred
/// (the bare registry name, uppercase, a data endpoint), so that one run names every problem.
struct RegistryName {
    let check: Check
    /// The login server the remaining checks use; nil when there is none (not ACR, or no valid name).
    let server: LoginServer?
    /// The host as Docker would be given it.
    let host: String

    init(_ input: String, known: RegistryHosts = RegistryHosts()) {
        let title = "Login server"
        func check(_ status: Check.Status, _ found: String, fix: String? = nil) -> Check {
            Check(.loginServer, status, title: title, found: found, fix: fix)
        }
        guard let address = try? ServerAddress(input) else {
            self.init(check: check(.error, "\(input) is not a server address", fix: "give the login server, e.g. myregistry.azurecr.io"),
                      server: nil, host: input)
            return
        }
        let host = address.host
        let written = String(address.original.split(separator: "://").last ?? "").split(separator: "/").first.map(String.init) ?? host
        if let server = LoginServer(address, known: known) {
            if written != written.lowercased() {
                self.init(check: check(.error, "\(written) has capital letters; image references with them are refused",
                                       fix: "use \(server.name), all lowercase"),
                          server: server, host: server.name)
            } else {
                self.init(check: check(.ok, "\(server.name) is a login server (\(server.cloud.name))"),
                          server: server, host: server.name)
            }
            return
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        let suffix = known.suffix(of: host)?.0
        if labels.count == 1, address.key == host {
            if Self.isRegistryName(host), let server = Self.loginServer(host + ".azurecr.io", known: known) {
                self.init(check: check(.error, "\(input) is a registry's name, not its login server",
                                       fix: "use \(server.name) (\(host).azurecr.cn in Azure China, \(host).azurecr.us in Azure Government)"),
                          server: server, host: server.name)
            } else {
                self.init(check: check(.error, "\(input) is neither a login server nor a valid registry name (5–50 letters and digits)",
                                       fix: "give the login server shown in the Azure portal, e.g. myregistry.azurecr.io"),
                          server: nil, host: host)
            }
            return
        }
        if let suffix {
            // name.<region>.data.azurecr.io serves image layers, not logins.
            let before = known.labels(of: host)?.0 ?? []
            if before.count == 3, before[2] == "data", let server = Self.loginServer(before[0] + suffix, known: known) {
                self.init(check: check(.error, "\(host) is a data endpoint, which serves layers but not logins",
                                       fix: "log in to \(server.name)"),
                          server: server, host: server.name)
            } else {
                self.init(check: check(.error, "\(labels[0]) is not a valid registry name (5–50 letters and digits)",
                                       fix: "check the name in the Azure portal; the login server is <name>\(suffix)"),
                          server: nil, host: host)
            }
            return
        }
        self.init(check: check(.warning, "\(host) is not an Azure Container Registry login server: only Docker's configuration is checked for it",
                               fix: "give an ACR login server (myregistry.azurecr.io), or map this host in the configuration file"),
                  server: nil, host: host)
    }

    private init(check: Check, server: LoginServer?, host: String) {
        self.check = check
        self.server = server
        self.host = host
    }

    static func isRegistryName(_ name: String) -> Bool {
        (5...50).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    private static func loginServer(_ host: String, known: RegistryHosts) -> LoginServer? {
        (try? ServerAddress(host.lowercased())).flatMap { LoginServer($0, known: known) }
    }
}
