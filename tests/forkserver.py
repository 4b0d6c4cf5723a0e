"""Server subprocesses forked from a pre-imported interpreter (a "zygote").

The suite starts some hundred `paygraph serve` processes, and each spent 1.1-1.4 s of
CPU before it served: the interpreter's start, importing the app's modules (SQLAlchemy,
Strawberry, graphql-core, uvicorn, the schema: most of it) and building the schema. A
test process starts one zygote (tests.zygote), the first time it starts a server; the
zygote imports those modules once, then forks a child for each server, which becomes
what `python -m gateway.cli serve ...` would be: the arguments, environment, working
directory and standard streams it is given, the module run as __main__, its exit code.
The child still imports what the zygote did not, migrates the database, builds the app
and serves on a real port; the test drives it as a subprocess.Popen (`popen`).

A child is forked only where that makes no difference: the zygote notes the environment
variables its imports read (prometheus_client's PROMETHEUS_MULTIPROC_DIR, the schema's
PAYGRAPH_RESOLVER_SPEEDUPS, ...) and those the interpreter reads as it starts (PYTHON*,
LC_*, LANG, TZ), and a start whose environment differs there is a plain subprocess, as is
a command line other than `python -m MODULE ...`. A test of what only a fresh
interpreter shows (the command-line entry point, a start-up banner as a user sees it,
worker processes) starts one itself (`fresh=True`, or subprocess.Popen).

PAYGRAPH_TEST_FORKSERVER=off makes every start a plain subprocess, to compare.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Protocol

from tests.zygote import MAX_MESSAGE

SWITCH = "PAYGRAPH_TEST_FORKSERVER"
STARTS_WITHIN = 120.0  # seconds, for the zygote to import, or to fork, on a busy machine
ROOT = Path(__file__).resolve().parents[1]
# Read by the interpreter as it starts, before any import (its flags, locale, time zone):
# a child has the zygote's settings, except its standard streams, made anew after
# PYTHONUNBUFFERED.
_STARTUP = ("PYTHON", "LC_", "LANG", "TZ")
_HONOURED = {"PYTHONUNBUFFERED"}


class Process(Protocol):
    """What a test does with a server's process: subprocess.Popen's, or ForkedProcess's."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    @property
    def stdout(self) -> IO[str] | None: ...
    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, sig: int) -> None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...
    def communicate(
        self, input: None = None, timeout: float | None = None
    ) -> tuple[str | None, str | None]: ...


def popen(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout: int | None = None,
    stderr: int | None = None,
    fresh: bool = False,
) -> Process:
    """subprocess.Popen(args, cwd=cwd, env=env, stdout=stdout, stderr=stderr, text=True),
    forked from this process's zygote when that makes no difference (see the module's
    docstring); `fresh` (or PAYGRAPH_TEST_FORKSERVER=off) always starts an interpreter."""
    zygote = _zygote_for(args, env, fresh)
    if zygote is None:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=stdout, stderr=stderr, text=True)
    return zygote.fork(args, cwd=cwd, env=env, stdout=stdout, stderr=stderr)


def run(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
    timeout=timeout, check=check), forked from the zygote as `popen` would be."""
    zygote = _zygote_for(args, env, fresh=False)
    if zygote is None:
        return subprocess.run(
            args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=check
        )
    process = zygote.fork(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output, errors = process.communicate(timeout=timeout)
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args, output, errors)
    return subprocess.CompletedProcess(args, process.wait(), output, errors)


def _zygote_for(args: Sequence[str], env: Mapping[str, str], fresh: bool) -> _Zygote | None:
    """This process's zygote, if a child of it can be what `args` with `env` would be."""
    if fresh or os.environ.get(SWITCH, "on") == "off" or not _runs_a_module(args):
        return None
    zygote = _zygote()
    return zygote if zygote.agrees_with(env) else None


def _runs_a_module(args: Sequence[str]) -> bool:
    """Whether `args` is `python -m MODULE ...`, this interpreter's."""
    return len(args) >= 3 and args[0] == sys.executable and args[1] == "-m"


class ForkedProcess:
    """A process the zygote forked, driven as a subprocess.Popen (text mode): its exit
    code comes from the zygote, which reaps it; signals go through a pidfd, which names
    this process and no other, even once its pid is reused."""

    def __init__(
        self,
        args: Sequence[str],
        pid: int,
        pidfd: int,
        answers: socket.socket,
        stdout: IO[str] | None,
        stderr: IO[str] | None,
    ) -> None:
        self.args = list(args)
        self.pid = pid
        self.stdin = None
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._answers = answers
        self._lock = threading.Lock()

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._answers], [], [], 0)[0]:
            self._read_exit_code()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._answers], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            self._read_exit_code()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it has just exited
                signal.pidfd_send_signal(self._pidfd, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(
        self, input: None = None, timeout: float | None = None
    ) -> tuple[str | None, str | None]:
        """Reads stdout and stderr to their ends and waits for the exit, as Popen's (with
        no input: the child's stdin is the test process's); past `timeout`, kills the
        process first (as subprocess.run does) and raises."""
        streams = (self.stdout, self.stderr)
        # Both at once: the process blocks once either pipe is full.
        with ThreadPoolExecutor(max_workers=2) as readers:
            reads = [readers.submit(stream.read) if stream else None for stream in streams]
            try:
                self.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()  # (its pipes end with it, so the reads end)
                raise
        for stream in streams:
            if stream:
                stream.close()
        output, errors = (read.result() if read else None for read in reads)
        return output, errors

    def _read_exit_code(self) -> None:
        with self._lock:  # (another thread may have read it)
            if self.returncode is not None:
                return
            answer = self._answers.recv(64)
            if not answer:
                raise RuntimeError(f"the zygote exited before process {self.pid}")
            self.returncode = int(answer)
            self._answers.close()
            os.close(self._pidfd)


class _Zygote:
    """This process's zygote (tests.zygote), and what its imports read."""

    def __init__(self) -> None:
        self.environment = dict(os.environ)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.zygote", str(theirs.fileno())],
                cwd=ROOT, env=self.environment, stdin=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
            )  # fmt: skip
        self.control = ours
        self.lock = threading.Lock()
        ours.settimeout(STARTS_WITHIN)
        hello = ours.recv(MAX_MESSAGE)
        ours.settimeout(None)
        if not hello:
            raise RuntimeError(
                f"the tests' zygote exited with {self.process.wait()} before it was ready"
                f" (its output is above); {SWITCH}=off starts servers without it"
            )
        self.read: dict[str, str | None] = json.loads(hello)

    def agrees_with(self, env: Mapping[str, str]) -> bool:
        """Whether a child of the zygote is what a fresh interpreter would be with `env`."""

        def startup(environment: Mapping[str, str]) -> dict[str, str]:
            return {
                name: value
                for name, value in environment.items()
                if name.startswith(_STARTUP) and name not in _HONOURED
            }

        return startup(env) == startup(self.environment) and all(
            env.get(name) == value for name, value in self.read.items()
        )

    def fork(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout: int | None,
        stderr: int | None,
    ) -> ForkedProcess:
        """A child that is `args` (`python -m MODULE ...`), started as popen's say."""
        ends: list[int] = []  # the child's ends of the pipes made here: closed once sent
        reads: list[IO[str]] = []

        def stream(choice: int | None, inherited: int) -> int:
            if choice is None:
                return inherited
            if choice == subprocess.DEVNULL:
                ends.append(os.open(os.devnull, os.O_RDWR))
                return ends[-1]
            if choice != subprocess.PIPE:
                raise ValueError(f"unsupported stream {choice}")
            read, write = os.pipe()
            ends.append(write)
            reads.append(open(read))  # noqa: SIM115 - read for as long as the process runs
            return write

        child_stdout = stream(stdout, 1)
        child_stderr = child_stdout if stderr == subprocess.STDOUT else stream(stderr, 2)
        request = {"module": args[2], "args": list(args[3:]), "cwd": str(cwd), "env": dict(env)}
        answers, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self.lock:
                socket.send_fds(
                    self.control,
                    [json.dumps(request).encode()],
                    [theirs.fileno(), 0, child_stdout, child_stderr],
                )
        finally:
            theirs.close()
            for fd in ends:
                os.close(fd)
        answers.settimeout(STARTS_WITHIN)
        pid, fds, _, _ = socket.recv_fds(answers, 64, 1)
        answers.settimeout(None)  # (ForkedProcess waits with its own timeouts)
        if not pid:
            raise RuntimeError(f"the tests' zygote exited: {self.process.wait()}")
        output = reads[0] if stdout == subprocess.PIPE else None
        errors = reads[-1] if stderr == subprocess.PIPE else None
        return ForkedProcess(args, int(pid), fds[0], answers, output, errors)

    def stop(self) -> None:
        """Closes its socket, which ends it, and reaps it (its CPU is then this process's
        children's, as a server's was)."""
        self.control.close()
        self.process.wait(timeout=30)


_started: _Zygote | None = None
_starting = threading.Lock()


def _zygote() -> _Zygote:
    global _started
    with _starting:
        if _started is None:
            _started = _Zygote()
            atexit.register(_started.stop)
        return _started
