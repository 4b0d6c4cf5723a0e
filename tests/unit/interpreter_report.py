"""`python -m tests.unit.interpreter_report [wait]`: prints, as JSON, what the process
is as an interpreter (its arguments, working directory, environment, import path,
signal handlers, standard streams, open files, threads), for tests.unit.test_forkserver
to compare a child forked from the tests' zygote with a fresh interpreter; with `wait`,
then waits for a signal."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sys
import threading


def report() -> dict[str, object]:
    handlers = {
        name: repr(signal.getsignal(getattr(signal, name)))
        for name in ("SIGINT", "SIGTERM", "SIGPIPE", "SIGCHLD", "SIGXFSZ", "SIGHUP")
    }
    streams = {}
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr)):
        assert isinstance(stream, io.TextIOWrapper)
        buffered = not isinstance(stream.buffer, io.RawIOBase)
        streams[name] = [
            stream.fileno(),
            stream.encoding,
            stream.errors,
            stream.line_buffering,
            stream.write_through,
            buffered,
        ]
    return {
        "name": __name__,
        "argv": sys.argv,
        "cwd": os.getcwd(),
        "environment": dict(os.environ),
        "path": sys.path[0],
        "handlers": handlers,
        "streams": streams,
        "files": sorted(os.listdir("/proc/self/fd")),  # (one is listdir's own)
        "threads": threading.active_count(),
        "pid": os.getpid(),
        "random": random.random(),
    }


if __name__ == "__main__":
    print(json.dumps(report()))
    if sys.argv[1:] == ["wait"]:
        signal.pause()
