"""`paygraph serve`'s connection bounds over real sockets: a connection that sends half
a request header, or nothing, or half the header of its second request, is closed once
PAYGRAPH_HEADER_TIMEOUT passes (it once stayed open for as long as the client liked);
connections past PAYGRAPH_LIMIT_CONCURRENCY get 503 at once; and no answer names the
server software."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server

HEADER_TIMEOUT = 0.5
# Only a bound for a hung test: the server closes the connection well before.
GIVE_UP_AFTER = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    database = tmp_path_factory.mktemp("timeouts") / "paygraph.db"
    env = {"PAYGRAPH_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "PAYGRAPH_KEEP_ALIVE_TIMEOUT": "20"}
    with running_server(f"sqlite:///{database}", env=env) as running:
        yield running


def connect(server: RunningServer) -> socket.socket:
    address = urlsplit(server.url)
    sock = socket.create_connection((address.hostname, address.port))
    sock.settimeout(GIVE_UP_AFTER)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (reads end) before we give up."""
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_a_connection_sending_half_a_header_is_closed(server: RunningServer) -> None:
    with closing(connect(server)) as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: paygraph\r\nContent-Ty")

        assert closed_by_server(sock)


def test_a_connection_sending_nothing_is_closed(server: RunningServer) -> None:
    with closing(connect(server)) as sock:
        assert closed_by_server(sock)


def test_a_second_request_sending_half_a_header_is_closed(server: RunningServer) -> None:
    with closing(connect(server)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: paygraph\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
        # The keep-alive timeout (20 s) would not close it: the header timeout does.
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")

        assert closed_by_server(sock)


def test_answers_name_no_server_software(server: RunningServer) -> None:
    health = httpx.get(f"{server.url}/healthz", timeout=10, verify=TLS)
    graphql = httpx.post(
        server.graphql_url, json={"query": "{ __typename }"}, timeout=10, verify=TLS
    )

    for answer in (health, graphql):
        assert "server" not in answer.headers, answer.headers
    assert graphql.status_code == 401
    assert graphql.headers["x-content-type-options"] == "nosniff"
    assert graphql.headers["cache-control"] == "no-store"


def test_connections_past_the_concurrency_limit_get_503(tmp_path: Path) -> None:
    env = {"PAYGRAPH_LIMIT_CONCURRENCY": "3", "PAYGRAPH_HEADER_TIMEOUT": "60"}
    with running_server(f"sqlite:///{tmp_path / 'limit.db'}", env=env) as server:
        idle = [connect(server) for _ in range(3)]
        try:
            refused = httpx.get(f"{server.url}/healthz", timeout=10, verify=TLS)
        finally:
            for sock in idle:
                sock.close()
        # Served again once the server has seen the idle ones go (polled: a bound only).
        deadline = time.monotonic() + GIVE_UP_AFTER
        while (
            served := httpx.get(f"{server.url}/healthz", timeout=10, verify=TLS)
        ).status_code != 200:
            assert time.monotonic() < deadline, served.status_code
            time.sleep(0.05)

    assert refused.status_code == 503


# --- clients that stop reading --------------------------------------------------------

SEND_TIMEOUT = 0.5
# An answer of some megabytes: more than the kernel buffers of a loopback connection (up
# to 4 MiB) and uvicorn's, so its bytes back up behind a client that reads nothing. The
# server under test lifts its alias, token, cost and size limits to allow it.
ALIASES = 200
PAGE = "payments(first: 200) { nodes { id reference status createdAt amount { formatted } } }"
BIG_ANSWER = "{ " + " ".join(f"a{n}: {PAGE}" for n in range(ALIASES)) + " }"
UNLIMITED = {
    "PAYGRAPH_MAX_ALIASES": str(ALIASES),
    "PAYGRAPH_MAX_TOKENS": "20000",
    "PAYGRAPH_MAX_QUERY_COST": "10000000",
    "PAYGRAPH_THROTTLE_MAXIMUM": "10000000",
    "PAYGRAPH_MAX_RESPONSE_BYTES": str(64 * 1024 * 1024),
}
TCP_ESTABLISHED = 1


def server_end_state(server_port: int, client_port: int) -> int:
    """The kernel's state of the server's end of a loopback connection (/proc/net/tcp):
    1 while the server holds it open, another state once it has let go."""
    wanted = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == wanted:
            return int(fields[3], 16)
    return 0  # gone altogether


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    database = tmp_path_factory.mktemp("stalls") / "paygraph.db"
    env = {"PAYGRAPH_SEND_TIMEOUT": str(SEND_TIMEOUT), **UNLIMITED}
    with running_server(
        f"sqlite:///{database}", "--demo", "--demo-payments", "300", env=env
    ) as running:
        with closing(sqlite3.connect(database)) as connection:
            (running.env["ADMIN"],) = connection.execute(
                "SELECT min(id) FROM user_account WHERE tenant_id = 1 AND role = 'admin'"
            ).fetchone()
        yield running


def test_a_client_that_stops_reading_its_answer_is_cut_off(demo_server: RunningServer) -> None:
    token = mint_token(
        Settings(jwt_secret=TEST_JWT_SECRET),
        tenant_id=1,
        user_id=int(demo_server.env["ADMIN"]),
        permissions=ALL_PERMISSIONS,
    )
    body = json.dumps({"query": BIG_ANSWER}).encode()
    address = urlsplit(demo_server.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with closing(sock):
        sock.connect((address.hostname, address.port))
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: paygraph\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        # The client reads nothing: the server gives up on it and lets the connection go,
        # with what it had not sent (polled: a bound only; before, it waited for ever).
        ends = (address.port, sock.getsockname()[1])
        deadline = time.monotonic() + GIVE_UP_AFTER
        while server_end_state(*ends) == TCP_ESTABLISHED:
            assert time.monotonic() < deadline, "the server still waits on the client"
            time.sleep(0.05)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk

    head, _, answered = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:80]
    length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    assert len(answered) < length, "the answer was cut off, not delivered"
    # and the server serves others as before
    assert httpx.get(f"{demo_server.url}/healthz", timeout=10, verify=TLS).status_code == 200
