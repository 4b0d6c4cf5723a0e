"""The zygote: a Python process that has imported the server's modules once, and forks a
child for each server a test starts, which becomes `python -m MODULE ARGS` (what it is
for, and the test process's side: tests.forkserver).

`python -m tests.zygote FD`, FD being its end of a SEQPACKET socket pair: it imports
PRELOADED, answers with the environment variables those imports read (a JSON object of
name -> value or null), then forks a child for each request on FD: a JSON message
(module, args, cwd, env) with four file descriptors, a SEQPACKET socket for the answers
and the child's stdin, stdout and stderr. On that socket it sends the child's pid with a
pidfd for it (the test process signals it through that: a pid could be reused once the
child is reaped), then, once it has reaped the child, its exit code as subprocess tells
it (-N for signal N). When FD closes, the test process has gone: it stops the children
still running (SIGTERM) and exits.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
from collections.abc import ItemsView, Iterator, MutableMapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any, TextIO
from unittest import mock

MAX_MESSAGE = 1 << 20  # a request carries a whole environment: a few KiB

# What `python -m gateway.cli serve` imports, named by the modules that bring in the rest.
# Only a matter of speed: one missing here is imported by the child, as by a fresh
# interpreter. The environment variables these imports read are noted (_Reads): a child
# is forked only for an environment that agrees on them.
PRELOADED = (
    "gateway.app",  # the app and its schema (SQLAlchemy, Strawberry, graphql-core, ...)
    # what gateway.cli's `serve` imports itself, and the migrations it runs
    "gateway.logs",
    "gateway.server_timeouts",
    "db.migrate",
    "db.provisioning",
    "alembic.command",
    "alembic.runtime.migration",
    "alembic.ddl.postgresql",
    "alembic.ddl.sqlite",
    "aiosqlite",
    "asyncpg",
    # what uvicorn imports once it runs: its event loop, protocols and lifespan
    "uvicorn.main",
    "uvicorn.loops.auto",
    "uvicorn.loops.uvloop",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.lifespan.on",
)


@dataclass(frozen=True)
class Request:
    """What the child becomes: `python -m module *args` in `cwd`, with `env` and the
    standard streams `stdio` (file descriptors for 0, 1 and 2)."""

    module: str
    args: list[str]
    cwd: str
    env: dict[str, str]
    stdio: list[int]


@dataclass(frozen=True)
class _Child:
    pid: int
    answers: socket.socket


class _Reads(MutableMapping[str, str]):
    """os.environ, noting each variable read by name (`[]`, `get`, `in`, os.getenv): how
    a module set itself up on import may depend on those. Reading the whole environment
    is not noted: the one preloaded module that does on import, wsgiref.handlers
    (imported by prometheus_client), keeps the copy for WSGI servers, and a PayGraph
    server runs none."""

    def __init__(self, environ: MutableMapping[str, str]) -> None:
        self.environ = environ
        self.read: dict[str, str | None] = {}

    def __getitem__(self, name: str) -> str:
        self.read[name] = self.environ.get(name)
        return self.environ[name]

    def __setitem__(self, name: str, value: str) -> None:
        self.environ[name] = value

    def __delitem__(self, name: str) -> None:
        del self.environ[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.environ)

    def __len__(self) -> int:
        return len(self.environ)

    def items(self) -> ItemsView[str, str]:  # for a whole copy: not read name by name
        return self.environ.items()

    def copy(self) -> dict[str, str]:
        return dict(self.environ)


def preload() -> dict[str, str | None]:
    """Imports PRELOADED; returns the environment variables read meanwhile."""
    reads = _Reads(os.environ)
    with mock.patch.object(os, "environ", reads):
        for name in PRELOADED:
            import_module(name)
    # A fork copies only the thread that called it: one that an import started would be
    # missing from every child, with whatever lock it held.
    threads = len(os.listdir("/proc/self/task"))
    if threading.active_count() != 1 or threads != 1:
        raise RuntimeError(f"preloading started threads ({threads}): cannot fork safely")
    return reads.read


def serve(control: socket.socket) -> Request | None:
    """Forks a child for each request on `control`. Returns in the child, with what it is
    to become; in the zygote, with None once the test process has gone."""
    children: dict[int, _Child] = {}  # by pidfd
    with selectors.DefaultSelector() as selector:
        selector.register(control, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is not control:
                    _reap(children.pop(key.fd), key.fd)
                    selector.unregister(key.fd)
                    os.close(key.fd)
                    continue
                message, fds, flags, _ = socket.recv_fds(control, MAX_MESSAGE, 4)
                if not message:
                    for child in children.values():
                        os.kill(child.pid, signal.SIGTERM)
                    return None
                if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(fds) != 4:
                    raise RuntimeError(f"a request cut short ({len(message)} bytes, {fds})")
                answers, stdio = socket.socket(fileno=fds[0]), fds[1:]
                # Anything the zygote buffered would be written again by the child.
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    control.close()  # the selector closes as this returns
                    for pidfd, child in children.items():
                        os.close(pidfd)
                        child.answers.close()
                    answers.close()
                    return Request(**json.loads(message), stdio=stdio)
                for fd in stdio:  # the child's now: the test process reads to their end
                    os.close(fd)
                pidfd = os.pidfd_open(pid)
                socket.send_fds(answers, [str(pid).encode()], [pidfd])
                children[pidfd] = _Child(pid, answers)
                selector.register(pidfd, selectors.EVENT_READ)


def _reap(child: _Child, pidfd: int) -> None:
    """Waits for the child whose pidfd became readable; sends its exit code."""
    _, status = os.waitpid(child.pid, 0)
    with contextlib.suppress(OSError):  # (the test process may have dropped the process)
        child.answers.send(str(os.waitstatus_to_exitcode(status)).encode())
    child.answers.close()


def become(request: Request, interrupt: Any) -> None:
    """Turns this forked child into `python -m MODULE ARGS`, run with the request's
    environment, working directory and standard streams, as a fresh interpreter would
    run it. `interrupt` is the SIGINT handler the zygote started with."""
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    for target, fd in enumerate(request.stdio):
        os.dup2(fd, target)
    for fd in set(request.stdio):
        os.close(fd)
    unbuffered = bool(request.env.get("PYTHONUNBUFFERED"))
    sys.stdin = _standard_stream(0, sys.stdin, unbuffered)
    sys.stdout = _standard_stream(1, sys.stdout, unbuffered)
    sys.stderr = _standard_stream(2, sys.stderr, unbuffered)
    signal.signal(signal.SIGINT, interrupt)
    # (The random module reseeds itself in a forked child: os.register_at_fork.)
    sys.path[0] = os.getcwd()  # `-m` puts the working directory first
    sys.argv = [request.module, *request.args]  # runpy puts the module's path first
    # A fresh interpreter has not imported the module it runs (runpy warns if it has).
    sys.modules.pop(request.module, None)
    runpy.run_module(request.module, run_name="__main__", alter_sys=True)


def _standard_stream(fd: int, like: TextIO, unbuffered: bool) -> TextIO:
    """A standard stream on `fd`, made as the interpreter makes sys.stdin, sys.stdout and
    sys.stderr at start-up (create_stdio in Python/pylifecycle.c): with PYTHONUNBUFFERED
    they write through (stdout and stderr on no buffer at all); otherwise stderr, and a
    terminal, are line-buffered."""
    writing = fd != 0
    buffering = 0 if writing and unbuffered else -1
    return io.TextIOWrapper(
        open(fd, "wb" if writing else "rb", buffering, closefd=False),
        encoding=like.encoding,
        errors=like.errors,
        newline="\n",
        line_buffering=not unbuffered and writing and (fd == 2 or os.isatty(fd)),
        write_through=unbuffered,
    )


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    interrupt = signal.getsignal(signal.SIGINT)
    # A Ctrl-C reaches the whole process group; the zygote stays to report its children's
    # ends, and leaves when the test process does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control.send(json.dumps(preload()).encode())
    # What the imports built, out of the collector's reach before any fork: a child's
    # first collection (the app freezes its start-up heap) then walks only what the child
    # made, not every object inherited, nor copies each page it touches (0.1 s a server).
    gc.collect()
    gc.freeze()
    request = serve(control)
    if request is not None:
        become(request, interrupt)


if __name__ == "__main__":
    main()
