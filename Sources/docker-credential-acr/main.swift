import DockerCredentialProtocol
import HelperWiring
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

// The binary Docker runs for every registry operation. It runs the protocol's actions, new tokens from
// Azure included, and links no cryptography and no argument parser; libcurl it loads when a request is
// coming. Whatever needs more (a certificate identity's signature, `diagnose`, `import`, `--help`) it
// hands, with the same arguments and input, to docker-credential-acr-engine by exec.

ProcessHardening.forbidDumps()
let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 1, let action = ProtocolAction(rawValue: arguments[0]) else {
    Engine.exec(arguments: arguments, input: nil)
}
let input = action.readsInput ? StandardInput.read() : []
do {
    exit(try await action.run(input: input, wiring: Wiring(signer: nil)))
} catch {
    Engine.exec(arguments: arguments, input: input)
}

/// docker-credential-acr-engine: beside this binary (a build folder), or in
/// `../libexec/docker-credential-acr/` (an installation).
enum Engine {
    static let name = "docker-credential-acr-engine"

    static func exec(arguments: [String], input: [UInt8]?) -> Never {
        let me = realPath("/proc/self/exe") ?? CommandLine.arguments[0]
        let folder = String(me[..<(me.lastIndex(of: "/") ?? me.startIndex)])
        let candidates = [folder + "/" + name, folder + "/../libexec/docker-credential-acr/" + name]
        guard let engine = candidates.first(where: { access($0, X_OK) == 0 }) else {
            Output.write("docker-credential-acr: cannot find \(name) (looked at \(candidates.joined(separator: " and "))); reinstall with `make install`\n", to: STDOUT_FILENO)
            exit(1)
        }
        if let input, !replaceStandardInput(with: input) {
            Output.write("docker-credential-acr: cannot pass the input on to \(name): \(String(cString: strerror(errno)))\n", to: STDOUT_FILENO)
            exit(1)
        }
        // argv[0] stays this binary's path: the engine names itself after it and `diagnose` compares it
        // with the docker-credential-acr that Docker finds on PATH.
        let argv = ([me] + arguments).map { strdup($0) } + [nil]
        execv(engine, argv)
        Output.write("docker-credential-acr: cannot run \(engine): \(String(cString: strerror(errno)))\n", to: STDOUT_FILENO)
        exit(1)
    }

    /// The input already read from stdin, as a pipe the engine reads to its end. Input that gets this far
    /// is a server URL: far below the pipe's 64 KiB, so writing it all before the exec cannot block.
    static func replaceStandardInput(with input: [UInt8]) -> Bool {
        var ends: [Int32] = [0, 0]
        guard input.count <= 1 << 16, pipe(&ends) == 0 else { return false }
        var rest = input[...]
        while !rest.isEmpty {
            let count = rest.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            rest = rest.dropFirst(count)
        }
        close(ends[1])
        defer { close(ends[0]) }
        return dup2(ends[0], STDIN_FILENO) == STDIN_FILENO
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
