"""`paygraph serve`'s connection bounds over real sockets: a connection that sends half
a request header, or nothing, or half the header of its second request, is closed once
PAYGRAPH_HEADER_TIMEOUT passes (it once stayed open for as long as the client liked);
connections past PAYGRAPH_LIMIT_CONCURRENCY get 503 at once; and no answer names the
server software."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.server import RunningServer, running_server

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
    health = httpx.get(f"{server.url}/healthz", timeout=10)
    graphql = httpx.post(server.graphql_url, json={"query": "{ __typename }"}, timeout=10)

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
            refused = httpx.get(f"{server.url}/healthz", timeout=10)
        finally:
            for sock in idle:
                sock.close()
        # Served again once the server has seen the idle ones go (polled: a bound only).
        deadline = time.monotonic() + GIVE_UP_AFTER
        while (served := httpx.get(f"{server.url}/healthz", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, served.status_code
            time.sleep(0.05)

    assert refused.status_code == 503
