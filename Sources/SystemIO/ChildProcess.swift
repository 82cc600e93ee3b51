import ErrorExplanation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program without a shell, collects its output, and kills it when it overruns its time.
public enum ChildProcess {
    public struct Result {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    public enum Failure: ExplainedError {
        case spawn(Int32)
        case timedOut

        public var fix: String? { nil }

        public var cause: String {
            switch self {
            case .spawn(let code): "cannot start it: \(String(cString: strerror(code)))"
            case .timedOut: "it did not finish in time"
            }
        }
    }

    public static func run(_ executable: String, _ arguments: [String], timeout: Duration) async throws(Failure) -> Result {
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [0, 0]
        guard pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else { throw .spawn(errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        for fd in stdoutPipe + stderrPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard spawned == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw .spawn(spawned)
        }
        let child = pid
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            kill(child, SIGKILL)
        }
        let (out, err) = (stdoutPipe[0], stderrPipe[0])
        async let stdout = Task.detached { readAll(out) }.value
        async let stderr = Task.detached { readAll(err) }.value
        let (output, errors) = await (stdout, stderr)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0, errno == EINTR {}
        watchdog.cancel()
        // Only the watchdog sends SIGKILL.
        if status & 0x7f == SIGKILL { throw .timedOut }
        return Result(status: (status >> 8) & 0xff, stdout: output, stderr: errors)
    }

    /// Its output, up to 1 MiB (a token answer is a few KiB); a failed read ends it.
    private static func readAll(_ fd: Int32) -> [UInt8] {
        defer { close(fd) }
        return (try? FileDescriptorReader.readToEnd(fd, limit: 1 << 20)) ?? []
    }

    /// The first executable named `name` on `PATH`.
    public static func find(_ name: String, path: String?) -> String? {
        for directory in (path ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
