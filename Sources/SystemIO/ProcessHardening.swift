import CProcessControl

/// Keeps the secrets a helper process holds out of core dumps, and other processes of the same user from
/// reading its memory (ptrace, /proc/PID/mem): the process is marked not dumpable. An exec marks the new
/// program dumpable again, so each of the two binaries calls this first.
public enum ProcessHardening {
    public static func forbidDumps() {
        _ = process_forbid_dumps()
    }
}
