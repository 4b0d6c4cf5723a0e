"""Exports cannot starve reads, over real HTTP on SQLite and PostgreSQL (the whole app
served in-process on the test's database, so the test can look into its export pool).

Clients that ask for an export and stop reading hold their export for at most the send
timeout: then it is cut off, its cursor closed and its connection back in the exports'
own pool. Meanwhile GraphQL reads and /readyz answer as usual (they use the other pool),
a credential's third export and any export past the pool's size are refused with 429
TOO_MANY_EXPORTS, and once the stalled ones are cut, exports run again."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.permissions import VIEW_PAYMENTS
from gateway.app import create_app
from gateway.auth import mint_token
from gateway.export_settings import ExportSettings
from gateway.settings import Settings
from tests.e2e.server import TLS
from tests.factories import Factory
from tests.integration.test_document_lists import bulk_payments
from tests.live_server import close_app_pools, serving
from tests.raw_http import open_connection, request_head

SECRET = "export-isolation-test-secret-long-enough-0123456789"
# The send timeout leaves the test time to look at the pool while the exports stall.
EXPORTS = ExportSettings(connections=3, send_timeout=5.0, per_credential=2)
PAYMENTS = 16_000  # some 9 MB of NDJSON: more than the socket buffers on the way (4 MB) hold
CUT_OFF_WITHIN = 30.0  # seconds; generous, only to fail a hung test
READS = """{ payments(first: 5) { totalCount nodes { id reference } } }"""


@dataclass
class Site:
    client: httpx.AsyncClient
    url: str
    engine: AsyncEngine
    export_engine: AsyncEngine
    callers: list[dict[str, str]]  # request headers of three users of the tenant


@pytest.fixture(scope="module")
async def site(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    f = Factory(engine)
    tenant = await f.tenant()
    await bulk_payments(f, tenant, [{"reference": f"{n:0128d}"} for n in range(PAYMENTS)])
    callers = []
    for _ in range(3):
        user = await f.user(tenant)
        token = mint_token(
            Settings(jwt_secret=SECRET), tenant_id=tenant, user_id=user, permissions=[VIEW_PAYMENTS]
        )
        callers.append({"Authorization": f"Bearer {token}"})
    storage = tmp_path_factory.mktemp("documents")
    settings = Settings(jwt_secret=SECRET, storage_dir=str(Path(storage)))
    app = create_app(settings, engine, export_settings=EXPORTS)
    try:
        async with (
            serving(app) as url,
            httpx.AsyncClient(verify=TLS, base_url=url, timeout=60) as client,
        ):
            yield Site(client, url, engine, app.state.export_engine, callers)
    finally:
        await close_app_pools(app)


@dataclass
class StalledExport:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def rest(self) -> bytes:
        """Everything the server sent, read now, until it closed the connection."""
        async with asyncio.timeout(CUT_OFF_WITHIN):
            return await self.reader.read()


async def stalled_export(site: Site, caller: dict[str, str]) -> StalledExport:
    """A client that asks for every payment as NDJSON and reads nothing (its socket's
    receive buffer is as small as the kernel allows, so the server's sends soon wait)."""
    reader, writer = await open_connection(site.url, receive_buffer=256)
    body = json.dumps({"format": "ndjson"}).encode()
    headers = {**caller, "Content-Type": "application/json", "Content-Length": str(len(body))}
    writer.write(request_head("POST", "/exports/payments", headers) + body)
    await writer.drain()
    return StalledExport(reader, writer)


async def until(condition: object, what: str) -> None:
    """Wait until `condition()` holds (polled), failing after CUT_OFF_WITHIN seconds."""
    deadline = time.monotonic() + CUT_OFF_WITHIN
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"still not {what}"
        await asyncio.sleep(0.05)


async def export(site: Site, caller: dict[str, str]) -> httpx.Response:
    return await site.client.post("/exports/payments", json={"format": "ndjson"}, headers=caller)


def too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"] == "10"
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "TOO_MANY_EXPORTS",
        "requestId": response.headers["x-request-id"],
    }


async def open_transactions(engine: AsyncEngine) -> int:
    """PostgreSQL sessions of this database left inside a transaction (0 on SQLite)."""
    if engine.dialect.name != "postgresql":
        return 0
    async with engine.connect() as connection:
        count = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        )
    return int(count or 0)


async def test_stalled_exports_are_cut_off_and_never_starve_reads(site: Site) -> None:
    pool = site.export_engine.pool
    first, second, third = site.callers

    # given two exports of one caller and one of another, whose clients stopped reading
    stalled = [await stalled_export(site, caller) for caller in (first, first, second)]
    try:
        await stalled_exports_meanwhile(site, stalled)
    finally:
        for export_client in stalled:
            export_client.writer.close()

    # and exports run again, to their end
    whole = await export(site, third)
    assert whole.status_code == 200
    assert whole.content.count(b"\n") == PAYMENTS
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


async def stalled_exports_meanwhile(site: Site, stalled: list[StalledExport]) -> None:
    pool = site.export_engine.pool
    first, _, third = site.callers
    await until(lambda: pool.checkedout() == EXPORTS.connections, "all exporting")  # type: ignore[attr-defined]

    # when the first caller asks for a third export, then it is refused
    too_many(await export(site, first))
    # and so is any export while the exports' pool is taken (the overall cap)
    too_many(await export(site, third))

    # and GraphQL reads and the readiness check answer as usual meanwhile
    for _ in range(5):
        read = await site.client.post("/graphql", json={"query": READS}, headers=third)
        answer = read.json()
        assert read.status_code == 200 and "errors" not in answer, answer
        assert answer["data"]["payments"]["totalCount"] == PAYMENTS
    assert (await site.client.get("/readyz")).status_code == 200

    # when the send timeout passes, then every stalled export is cut off: its connection
    # is back in the pool and no transaction stays open
    await until(lambda: pool.checkedout() == 0, "cut off")  # type: ignore[attr-defined]
    assert await open_transactions(site.engine) == 0
    # and each client, reading at last, gets a response that ends without its last chunk
    for export_client in stalled:
        received = await export_client.rest()
        assert received.startswith(b"HTTP/1.1 200 OK\r\n"), received[:200]
        assert b"transfer-encoding: chunked" in received[:1000].lower()
        assert not received.endswith(b"0\r\n\r\n")  # cut short: no terminating chunk
        assert received.count(b"\n{") < PAYMENTS


async def test_an_export_refused_for_bad_input_takes_no_slot(site: Site) -> None:
    first = site.callers[0]
    for _ in range(EXPORTS.per_credential + 1):
        bad = await site.client.post("/exports/payments", json={"format": "xml"}, headers=first)
        assert bad.status_code == 400, bad.text
    small = await site.client.post(
        "/exports/payments",
        json={"format": "csv", "filter": {"reference": {"eq": f"{7:0128d}"}}},
        headers=first,
    )
    assert small.status_code == 200, small.text
    assert small.text.count("\r\n") == 2  # the header and the one row


async def test_a_client_that_disconnects_mid_export_returns_its_connection(site: Site) -> None:
    pool = site.export_engine.pool
    export_client = await stalled_export(site, site.callers[1])
    await until(lambda: pool.checkedout() == 1, "exporting")  # type: ignore[attr-defined]

    export_client.writer.close()

    await until(lambda: pool.checkedout() == 0, "returned")  # type: ignore[attr-defined]
    assert await open_transactions(site.engine) == 0
    assert (await site.client.get("/readyz")).status_code == 200
