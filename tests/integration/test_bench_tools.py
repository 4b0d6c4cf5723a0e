"""The benchmark's measuring tools against the real thing: the counting proxy between
asyncpg (or a hand-written client) and PostgreSQL, and wrk's load against a small HTTP
server started here. (Their parts that need no server are in
tests/unit/test_bench_tools.py.)"""

from __future__ import annotations

import asyncio
import json
import struct
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bench.load import run_wrk
from bench.pgcount import Counts, Proxy, counting_proxy
from tests.backends import POSTGRESQL, POSTGRESQL_RESOLVERS, on
from tests.receivers import serving_in_thread

ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", on(POSTGRESQL, POSTGRESQL_RESOLVERS), indirect=True
)


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[Proxy]:
    url = make_url(database_url)
    with counting_proxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


async def connect(proxy: Proxy, database_url: str) -> asyncpg.Connection:
    url = make_url(database_url)
    return await asyncpg.connect(
        host=proxy.host,
        port=proxy.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )


async def measured(proxy: Proxy, action: Callable[[], Awaitable[Any]]) -> Counts:
    proxy.reset()
    await action()
    return proxy.snapshot()


def numbers(counts: Counts) -> tuple[int, int, int]:
    return counts.statements, counts.transaction_control, counts.round_trips


# --- the counting proxy -------------------------------------------------------------------


@ON_POSTGRESQL
async def test_the_proxy_counts_what_asyncpg_sends(proxy: Proxy, database_url: str) -> None:
    conn = await connect(proxy, database_url)
    try:
        # connecting opens one connection and runs nothing
        assert proxy.snapshot().connections == 1
        assert numbers(proxy.snapshot()) == (0, 0, 0)

        async def simple() -> None:
            for _ in range(5):
                await conn.execute("SELECT 1")

        assert numbers(await measured(proxy, simple)) == (5, 0, 5)
        # one Query message holding two statements: two statements, one round trip
        both = await measured(proxy, lambda: conn.execute("SELECT 1; SELECT 2"))
        assert numbers(both) == (2, 0, 1)

        # preparing is a round trip (Parse, Describe, Flush) that runs nothing
        statement = await conn.prepare("SELECT $1::int + 1")

        async def prepared() -> None:
            assert [await statement.fetchval(n) for n in range(3)] == [1, 2, 3]

        assert numbers(await measured(proxy, prepared)) == (3, 0, 3)

        # asyncpg's statement cache: a text seen before skips the prepare round trip
        first = await measured(proxy, lambda: conn.fetchval("SELECT $1::int * 2", 1))
        again = await measured(proxy, lambda: conn.fetchval("SELECT $1::int * 2", 2))
        assert numbers(first) == (1, 0, 2)
        assert numbers(again) == (1, 0, 1)

        async def transaction() -> None:
            async with conn.transaction(), conn.transaction():  # a savepoint inside
                await conn.fetchval("SELECT $1::int * 2", 3)

        assert numbers(await measured(proxy, transaction)) == (1, 4, 5)
        ran = [text.split()[0] for text in proxy.snapshot().texts]
        assert sorted(ran) == ["BEGIN", "COMMIT", "RELEASE", "SAVEPOINT", "SELECT"]

        await conn.execute("CREATE TEMP TABLE bench_rows (n int, label text)")
        rows = [(n, f"row {n}") for n in range(20)]
        # executemany pipelines its Bind/Execute pairs: 20 statements, one Sync
        many = await measured(
            proxy, lambda: conn.executemany("INSERT INTO bench_rows VALUES ($1, $2)", rows)
        )
        assert numbers(many) == (20, 0, 2)

        # COPY: one statement whatever the rows (asyncpg prepares, unexecuted, a query
        # for the columns' types first); 500 rows of 1 kB cross many reads
        records = [(n, "x" * 1000) for n in range(500)]
        copy = await measured(
            proxy, lambda: conn.copy_records_to_table("bench_rows", records=records)
        )
        assert numbers(copy) == (1, 0, 2)
        assert copy.texts == {'COPY "bench_rows" FROM STDIN (FORMAT binary)': 1}
        assert await conn.fetchval("SELECT count(*) FROM bench_rows") == 520

        # what comes back is relayed intact, large rows and many rows alike
        assert await conn.fetchval("SELECT repeat('ab', 100000)") == "ab" * 100000
        assert await conn.fetchval("SELECT sum(n) FROM generate_series(1, 100000) n") == (
            100000 * 100001 // 2
        )
        # closing sends Terminate: nothing to count
        assert numbers(await measured(proxy, conn.close)) == (0, 0, 0)
    finally:
        await conn.close()


@ON_POSTGRESQL
async def test_a_cancel_request_reaches_postgresql(proxy: Proxy, database_url: str) -> None:
    conn = await connect(proxy, database_url)
    try:
        proxy.reset()
        # asyncpg cancels a query that timed out with a CancelRequest on a new connection
        with pytest.raises(asyncio.TimeoutError):
            await conn.fetchval("SELECT pg_sleep(30)", timeout=0.3)
        started = time.monotonic()
        assert await conn.fetchval("SELECT 1") == 1
        assert time.monotonic() - started < 5  # not waiting out the sleep: it was cancelled
        assert proxy.snapshot().connections == 0  # a cancel is not a client connection
    finally:
        await conn.close()


@ON_POSTGRESQL
async def test_leaving_the_proxy_closes_its_connections(database_url: str) -> None:
    url = make_url(database_url)
    with counting_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        conn = await connect(proxy, database_url)
        assert await conn.fetchval("SELECT 1") == 1
    try:
        for _ in range(100):
            if conn.is_closed():
                break
            await asyncio.sleep(0.02)
        assert conn.is_closed()
    finally:
        conn.terminate()


class RawClient:
    """A minimal frontend speaking the protocol itself, so that encryption requests can
    be sent and messages written a byte at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes, byte_by_byte: bool = False) -> None:
        for piece in [data[i : i + 1] for i in range(len(data))] if byte_by_byte else [data]:
            self.writer.write(piece)
            await self.writer.drain()
            if byte_by_byte:
                await asyncio.sleep(0.002)  # separate segments, separate reads

    async def until_ready(self) -> list[tuple[bytes, bytes]]:
        """Messages up to and including ReadyForQuery."""
        messages = []
        while True:
            kind = await self.reader.readexactly(1)
            (length,) = struct.unpack("!I", await self.reader.readexactly(4))
            body = await self.reader.readexactly(length - 4)
            messages.append((kind, body))
            if kind == b"Z":
                return messages


def typed(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


@ON_POSTGRESQL
async def test_encryption_requests_are_refused_and_split_messages_are_counted(
    proxy: Proxy, database_url: str
) -> None:
    url = make_url(database_url)
    if url.password:
        pytest.skip("the raw client speaks trust authentication only")
    client = RawClient(*await asyncio.open_connection(proxy.host, proxy.port))
    try:
        # GSS and SSL encryption are each answered N: the client goes on in plain text
        for code in (80877104, 80877103):
            await client.send(struct.pack("!II", 8, code))
            assert await client.reader.readexactly(1) == b"N"
        options = f"user\0{url.username}\0database\0{url.database}\0\0".encode()
        startup = struct.pack("!II", 8 + len(options), 196608) + options
        await client.send(startup, byte_by_byte=True)
        assert (await client.until_ready())[0] == (b"R", struct.pack("!I", 0))
        proxy.reset()

        await client.send(typed(b"Q", b"SELECT 1; SELECT 2\0"), byte_by_byte=True)
        answers = await client.until_ready()
        assert [kind for kind, _ in answers].count(b"D") == 2
        extended = b"".join(
            [
                typed(b"P", b"\0SELECT 42\0\0\0"),
                typed(b"B", b"\0\0\0\0\0\0\0\0"),
                typed(b"E", b"\0\0\0\0\0"),
                typed(b"S", b""),
            ]
        )
        await client.send(extended, byte_by_byte=True)
        rows = [body for kind, body in await client.until_ready() if kind == b"D"]
        assert rows == [struct.pack("!HI", 1, 2) + b"42"]
        assert numbers(proxy.snapshot()) == (3, 0, 2)
        await client.send(typed(b"X", b""))
    finally:
        client.writer.close()
        await client.writer.wait_closed()


# --- the load generator -------------------------------------------------------------------


class Stub(ThreadingHTTPServer):
    """Answers GraphQL-shaped POSTs by the body's "query": "fail" gets top-level
    errors, "boom" a 500, anything else data (with a field named errors, which is no
    error); records every body and Authorization header it got."""

    daemon_threads = True
    request_queue_size = 128  # wrk connects all at once: a backlog of 5 would stall some

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.lock = threading.Lock()
        self.bodies: list[bytes] = []
        self.authorizations: set[str | None] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/graphql"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # wrk closes its connections mid-request when the run ends


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    disable_nagle_algorithm = True
    server: Stub

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.bodies.append(body)
            self.server.authorizations.add(self.headers.get("Authorization"))
        kind = json.loads(body)["query"]
        answer: dict[str, Any] = {"data": {"payment": {"errors": ["not one"]}}}
        if kind == "fail":
            answer = {"data": None, "errors": [{"message": "refused"}]}
        out = json.dumps(answer).encode()
        self.send_response(500 if kind == "boom" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    with serving_in_thread(server, "wrk-stub"):
        yield server


def test_wrk_posts_one_body_for_the_duration(stub: Stub) -> None:
    body = b'{"query": "ok"}'
    result = run_wrk(stub.url, body, {"Authorization": "Bearer t"}, connections=4, duration_s=1)
    assert result.requests > 50
    assert 0.9 < result.duration_s < 1.5
    assert result.requests_per_s == pytest.approx(result.requests / result.duration_s)
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms
    # a field named errors inside data is not a GraphQL error
    assert (result.errors, result.socket_errors, result.ran_out) == (0, 0, False)
    assert set(stub.bodies) == {body}
    assert len(stub.bodies) >= result.requests  # the ones in flight at the end too
    assert stub.authorizations == {"Bearer t"}


def test_wrk_counts_error_statuses_and_graphql_errors(stub: Stub) -> None:
    bodies = [json.dumps({"query": q, "n": n}).encode() for n in range(10) for q in KINDS]
    result = run_wrk(stub.url, bodies, {}, connections=1, duration_s=5)
    assert (result.requests, result.bodies_used, result.ran_out) == (30, 30, True)
    assert result.errors == 20  # the 10 "fail" (GraphQL errors) and the 10 "boom" (500)
    assert sorted(stub.bodies) == sorted(bodies)


KINDS = ("ok", "fail", "boom")


def test_wrk_sends_each_body_once_and_ends_when_they_run_out(stub: Stub) -> None:
    bodies = [json.dumps({"query": "ok", "n": n}).encode() for n in range(400)]
    started = time.monotonic()
    result = run_wrk(stub.url, bodies, {}, connections=16, duration_s=10)
    assert time.monotonic() - started < 5  # ended when the bodies did, not after 10 s
    assert result.ran_out
    assert len(stub.bodies) == len(set(stub.bodies)) == result.bodies_used
    assert set(stub.bodies) <= set(bodies)
    assert result.requests == result.bodies_used == len(bodies)  # each one answered


def test_wrk_with_bodies_to_spare_runs_for_the_duration(stub: Stub) -> None:
    bodies = [json.dumps({"query": "ok", "n": n}).encode() for n in range(50_000)]
    result = run_wrk(stub.url, bodies, {}, connections=16, duration_s=1)
    assert not result.ran_out
    assert 0.9 < result.duration_s < 1.5
    assert len(stub.bodies) == len(set(stub.bodies)) == result.bodies_used
    assert result.requests > 50
