"""A real PayGraph server in a subprocess (uvicorn on a free port) and a gql client."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport

from tests.forkserver import Process, popen

ROOT = Path(__file__).resolve().parents[2]
# One TLS context for every test client (`verify=TLS`): httpx builds one per client
# otherwise, loading the CA bundle (some 30 ms of CPU), for clients that only ever speak
# plain HTTP to 127.0.0.1, and the suite makes thousands of them.
TLS = ssl.create_default_context()
TEST_JWT_SECRET = "e2e-test-secret-that-is-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    process: Process
    env: dict[str, str]
    # What the server printed, line by line, read as it comes (`drained`): a server whose
    # output nobody reads would block on a full pipe once its log lines pass 64 KiB.
    lines: list[str] = field(default_factory=list)
    _printed: threading.Condition = field(default_factory=threading.Condition)
    _read: int = 0
    _drain: threading.Thread | None = None

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def output(self) -> str:
        with self._printed:
            return "".join(self.lines)

    def next_line(self, timeout: float = 60) -> str:
        """The next line the server printed that this method has not returned yet."""
        with self._printed:
            if not self._printed.wait_for(lambda: len(self.lines) > self._read, timeout):
                raise TimeoutError(f"the server printed nothing more in {timeout} s")
            self._read += 1
            return self.lines[self._read - 1]

    def drained(self) -> RunningServer:
        """Reads the server's output on a thread of its own, for as long as it runs."""

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                with self._printed:
                    self.lines.append(line)
                    self._printed.notify_all()

        self._drain = threading.Thread(target=drain, name=f"output of {self.url}", daemon=True)
        self._drain.start()
        return self

    def stop_and_read(self, timeout: float = 10) -> str:
        """Stops the server (SIGTERM) and returns everything it printed."""
        self.process.terminate()
        self.process.wait(timeout=timeout)
        self.stopped()
        return self.output

    def stopped(self) -> None:
        """Once the process has exited: its last lines read, its pipe closed."""
        if self._drain is not None:
            self._drain.join(timeout=5)
        if self.process.stdout and (self._drain is None or not self._drain.is_alive()):
            self.process.stdout.close()


@contextmanager
def running_server(
    database_url: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    fresh: bool = False,
) -> Iterator[RunningServer]:
    """`paygraph serve` on a free port; yields once /healthz answers, stops it after. It
    is forked from the tests' zygote (tests.forkserver) unless `fresh`."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PAYGRAPH_JWT_SECRET": TEST_JWT_SECRET,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    process = popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        fresh=fresh,
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process, environment).drained()
    try:
        _wait_until_healthy(server, timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        server.stopped()


def _wait_until_healthy(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            time.sleep(0.2)  # the last lines it printed, read by its drain
            raise RuntimeError(f"server exited early:\n{server.output}")
        if answers_healthz(server.url):
            return
        time.sleep(0.1)
    raise TimeoutError(f"server at {server.url} did not become healthy")


def answers_healthz(url: str) -> bool:
    """One GET /healthz with the standard library's client: httpx.get builds a client
    (and its TLS context) per call, some 25 ms of CPU, and a server starting under load
    is asked a few dozen times."""
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):  # refused, or cut off, while it starts
        return False
    finally:
        connection.close()


async def query(
    server: RunningServer, token: str, document: str, **variables: Any
) -> dict[str, Any]:
    """Run one operation through the gql client; raises TransportQueryError on errors."""
    transport = HTTPXAsyncTransport(
        verify=TLS, url=server.graphql_url, headers={"Authorization": f"Bearer {token}"}
    )
    async with Client(transport=transport) as session:
        request = GraphQLRequest(document, variable_values=variables or None)
        return await session.execute(request)
