"""A real PayGraph server in a subprocess (uvicorn on a free port) and a gql client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport

ROOT = Path(__file__).resolve().parents[2]
TEST_JWT_SECRET = "e2e-test-secret-that-is-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[str]
    env: dict[str, str]

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"


@contextmanager
def running_server(
    database_url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[RunningServer]:
    """`paygraph serve` on a free port; yields once /healthz answers, stops it after."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PAYGRAPH_JWT_SECRET": TEST_JWT_SECRET,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = RunningServer(f"http://127.0.0.1:{port}", process, environment)
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
        if process.stdout:
            process.stdout.close()


def _wait_until_healthy(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = server.process.stdout.read() if server.process.stdout else ""
            raise RuntimeError(f"server exited early:\n{output}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"server at {server.url} did not become healthy")


async def query(
    server: RunningServer, token: str, document: str, **variables: Any
) -> dict[str, Any]:
    """Run one operation through the gql client; raises TransportQueryError on errors."""
    transport = HTTPXAsyncTransport(
        url=server.graphql_url, headers={"Authorization": f"Bearer {token}"}
    )
    async with Client(transport=transport) as session:
        request = GraphQLRequest(document, variable_values=variables or None)
        return await session.execute(request)
