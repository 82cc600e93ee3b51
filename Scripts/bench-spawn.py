#!/usr/bin/env python3
"""bench-spawn.py N INPUT OUT-PREFIX COMMAND… : COMMAND started N times at once, each reading INPUT on stdin
and writing stdout and stderr to OUT-PREFIX.1 … OUT-PREFIX.N; prints the seconds from the first start to the
last exit, and exits 1 when any of them failed.

make bench times 32 parallel gets with it, and the one get they are compared with. It starts processes as
Go's os/exec does for docker compose and the kubelet (posix_spawn: a vfork, no copy of the launcher), where
bash's `cmd &` forks the whole shell for each, on the same two CPUs as the processes being measured."""
import os
import shutil
import sys
import time


def main(arguments):
    if len(arguments) < 4:
        sys.exit(__doc__.split("\n\n")[0])
    count, source, prefix, command = int(arguments[0]), arguments[1], arguments[2], arguments[3:]
    program = shutil.which(command[0])
    if program is None:
        sys.exit(f"bench-spawn.py: {command[0]}: not found")
    # Each process its own open input: one shared file offset would split the input between them.
    files = [(os.open(source, os.O_RDONLY),
              os.open(f"{prefix}.{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)) for i in range(1, count + 1)]
    start = time.monotonic()
    processes = [os.posix_spawn(program, command, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, stdin, 0), (os.POSIX_SPAWN_DUP2, output, 1), (os.POSIX_SPAWN_DUP2, output, 2)])
        for stdin, output in files]
    statuses = [os.waitpid(pid, 0)[1] for pid in processes]
    print(f"{time.monotonic() - start:.6f}")
    return 0 if all(status == 0 for status in statuses) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
