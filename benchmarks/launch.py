"""Run one command and report its peak RSS exactly: ``python -S launch.py LOG CMD...``.

Linux carries the high-water mark of the memory a process had *before* ``exec``
into its ``ru_maxrss``; a crawl started straight from the benchmark process
(which holds pages, trafilatura, ...) would report the benchmark's size. This
launcher is tiny (no imports beyond the standard library, run with ``-S``): it
forks, execs the command with its output to LOG, prints the child's pid, waits
for it with ``os.wait4`` and prints ``{"returncode", "maxrss_kb", "cpu_seconds",
"ended"}`` as JSON (``ended``: the wall-clock time the process ended, ``time.time()``).
"""

import json
import os
import sys
import time


def main() -> None:
    log, command = sys.argv[1], sys.argv[2:]
    sink = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:  # the child: output to the log, then become the command
        os.dup2(sink, 1)
        os.dup2(sink, 2)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    os.close(sink)
    print(pid, flush=True)
    _, status, usage = os.wait4(pid, 0)
    ended = time.time()
    report = {
        "returncode": os.waitstatus_to_exitcode(status),
        "maxrss_kb": usage.ru_maxrss,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "ended": ended,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
