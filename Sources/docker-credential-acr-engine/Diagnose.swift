import ArgumentParser
import Diagnostics
import HelperWiring
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

struct Diagnose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check everything a login to an Azure Container Registry needs, and say how to fix what is wrong.",
        discussion: """
            Checks Docker's configuration, the registry's name, DNS, TLS and challenge, the firewall, the Azure \
            identity and its Azure AD token, the token exchange, the permissions for --pull/--push, the expiry \
            of stored and cached tokens, and the keyring. Tokens are fetched live and never stored or printed.

            Examples:
              docker-credential-acr diagnose myregistry.azurecr.io --pull hello-world
              docker-credential-acr diagnose --json | jq '.checks[] | select(.status == "error")'

            Exit status: 0 when a login would succeed, 1 when it would fail, 2 for a usage error.
            """)

    @Argument(help: "Login servers to check (default: the ACR registries in Docker's configuration and the store).")
    var registries: [String] = []

    @Option(help: ArgumentHelp("Also check that the identity may pull this repository.", valueName: "repository"))
    var pull: String?

    @Option(help: ArgumentHelp("Also check that the identity may push to this repository.", valueName: "repository"))
    var push: String?

    @Flag(help: "Print JSON: {\"ok\", \"registries\", \"checks\": [{code, status, group, registry, title, found, fix}]}.")
    var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let diagnostician = Diagnostician(
            environment: environment, connection: .live, now: { Int64(Date().timeIntervalSince1970) },
            executable: Self.frontPath())
        let diagnosis = await diagnostician.diagnose(registries, pull: pull, push: push)
        let colour = isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        Output.write(json ? Report.json(diagnosis) : Report.text(diagnosis, colour: colour), to: STDOUT_FILENO)
        if !diagnosis.loginWouldSucceed { throw ExitCode.failure }
    }

    /// docker-credential-acr, which runs this engine with its own path as argv[0]; this binary when run
    /// by itself.
    static func frontPath() -> String {
        guard let path = realpath(CommandLine.arguments[0], nil) ?? realpath("/proc/self/exe", nil) else {
            return CommandLine.arguments[0]
        }
        defer { free(path) }
        return String(cString: path)
    }
}
