"""Slow work cannot starve reads: a bounded load test on PostgreSQL against a real server
process. While 20 export clients that stopped reading and 24 payouts waiting on an 8-second
provider are in flight, the dashboard's reads keep succeeding and /readyz stays 200.

Before issue 17 each stalled export and each waiting payout held one of the 20 pool
connections (and the payout its row lock), so every read then waited for the pool's
30-second timeout and /readyz answered 503."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.permissions import VIEW_PAYMENTS
from gateway.auth import mint_token
from gateway.export_settings import ExportSettings
from tests.e2e.server import TLS, RunningServer, running_server
from tests.e2e.test_payout_safety import PAY, SETTINGS, Payout, approved_payout
from tests.factories import Factory, payment_row
from tests.payout_receiver import PayoutReceiver, payout_receiver

STALLED_EXPORTS = 20
PAYOUTS = 24
PROVIDER_SECONDS = 8.0
EXPORTED_PAYMENTS = 20_000  # some megabytes of NDJSON: more than the sockets can buffer
READ_ROUNDS = 20
READ_TIMEOUT = 10.0  # a generous bound that fails a starved read; no timing is asserted

DASHBOARD = """query Dashboard {
  payments(first: 20, sort: [{field: CREATED_AT, direction: DESC}]) {
    totalCount
    nodes { id status amount { amount currency } createdAt invoice { number } }
  }
}"""

ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@dataclass
class Tenant:
    tenant_id: int
    token: str
    exporters: list[str]  # one token per export client: each is a credential of its own


async def busy_tenant(engine: AsyncEngine) -> Tenant:
    """A tenant with enough payments that an export outgrows every socket buffer."""
    factory = Factory(engine)
    tenant = await factory.tenant()
    admin = await factory.user(tenant, role="admin")
    rows = [
        payment_row(tenant, amount=1_000 + n, reference=f"LOAD-{n:06d}")
        for n in range(EXPORTED_PAYMENTS)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(m.Payment.__table__), rows)
    token = mint_token(SETTINGS, tenant_id=tenant, user_id=admin, permissions=[VIEW_PAYMENTS])
    exporters = [
        mint_token(
            SETTINGS,
            tenant_id=tenant,
            user_id=await factory.user(tenant, role="admin"),
            permissions=[VIEW_PAYMENTS],
        )
        for _ in range(STALLED_EXPORTS)
    ]
    return Tenant(tenant, token, exporters)


@contextlib.contextmanager
def stalled_export(server: RunningServer, token: str) -> Iterator[socket.socket]:
    """A client that asks for an NDJSON export of every payment and never reads a byte."""
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket()
    # A tiny receive window: the server's writes back up as soon as the buffers fill.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    body = json.dumps({"format": "ndjson"}).encode()
    head = (
        f"POST /exports/payments HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    try:
        yield sock
    finally:
        sock.close()


@contextlib.asynccontextmanager
async def exports_stalled(
    server: RunningServer, tokens: list[str]
) -> AsyncIterator[list[socket.socket]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(stalled_export(server, token)) for token in tokens]


def answer_status(sock: socket.socket) -> int:
    """The HTTP status a stalled client was sent, peeked at without reading the stream."""
    sock.settimeout(READ_TIMEOUT)
    head = sock.recv(12, socket.MSG_PEEK)
    return int(head[9:12]) if head.startswith(b"HTTP/1.1 ") else 0


async def read_dashboard(client: httpx.AsyncClient, server: RunningServer, token: str) -> str:
    """'ok', or what went wrong with one dashboard read."""
    try:
        response = await client.post(
            server.graphql_url,
            json={"query": DASHBOARD},
            headers={"Authorization": f"Bearer {token}"},
            timeout=READ_TIMEOUT,
        )
    except httpx.TimeoutException:
        return "timed out"
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        return f"{response.status_code}: {body.get('errors')}"
    return "ok" if len(body["data"]["payments"]["nodes"]) == 20 else "short page"


async def ready(client: httpx.AsyncClient, server: RunningServer) -> int:
    try:
        response = await client.get(f"{server.url}/readyz", timeout=READ_TIMEOUT)
    except httpx.TimeoutException:
        return 0
    return response.status_code


async def pay(client: httpx.AsyncClient, server: RunningServer, payout: Payout) -> dict[str, Any]:
    try:
        response = await client.post(
            server.graphql_url,
            json={"query": PAY, "variables": {"id": str(payout.payment_id), "key": "load-test"}},
            headers={"Authorization": f"Bearer {payout.token}"},
            timeout=PROVIDER_SECONDS * 4,
        )
    except httpx.TimeoutException:
        return {"errors": ["timed out"]}
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def slow_provider() -> Iterator[PayoutReceiver]:
    with payout_receiver() as receiver:
        receiver.mode = "slow"
        receiver.slow_seconds = PROVIDER_SECONDS
        yield receiver


@ON_POSTGRESQL
async def test_reads_keep_succeeding_while_exports_stall_and_payouts_wait(
    engine: AsyncEngine, database_url: str, slow_provider: PayoutReceiver
) -> None:
    # given a busy tenant, 24 payable commissions and a provider that takes 8 s to answer
    tenant = await busy_tenant(engine)
    payouts = [await approved_payout(engine) for _ in range(PAYOUTS)]
    env = {
        "PAYGRAPH_PAYOUT_PROVIDER": "http",
        "PAYGRAPH_PAYOUT_URL": slow_provider.url,
        "PAYGRAPH_PAYOUT_TIMEOUT": str(PROVIDER_SECONDS * 3),
    }
    with running_server(database_url, env=env) as server:
        limits = httpx.Limits(max_connections=PAYOUTS + 8)
        # when 20 exports stall and 24 payouts wait on the provider
        async with (
            httpx.AsyncClient(verify=TLS, limits=limits) as client,
            exports_stalled(server, tenant.exporters) as exports,
        ):
            paying = [asyncio.create_task(pay(client, server, p)) for p in payouts]
            while len(slow_provider.calls) < PAYOUTS and not any(t.done() for t in paying):
                await asyncio.sleep(0.05)
            # then, while all of them are in flight, reads and readiness answer
            reads, readiness = [], []
            for _ in range(READ_ROUNDS):
                reads.append(await read_dashboard(client, server, tenant.token))
                readiness.append(await ready(client, server))
                if reads[-1] != "ok" or readiness[-1] != 200:
                    break  # starved: no need to wait out every round
                await asyncio.sleep(0.1)
            in_flight = sum(not task.done() for task in paying)
            export_statuses = [answer_status(sock) for sock in exports]
            answers = await asyncio.gather(*paying)

    assert len(slow_provider.calls) == PAYOUTS
    assert in_flight == PAYOUTS, "the reads were measured while every payout waited"
    assert reads == ["ok"] * READ_ROUNDS
    assert readiness == [200] * READ_ROUNDS
    # the exports were streaming, as many as the export pool holds (the rest were turned
    # away with 429), all of them stalled by clients that read nothing
    assert set(export_statuses) <= {200, 429}, export_statuses
    assert export_statuses.count(200) == ExportSettings().connections, export_statuses
    # and every payout still paid exactly once
    assert [a.get("errors") for a in answers] == [None] * PAYOUTS
    statuses = [a["data"]["payPartnerPayment"]["payment"]["status"] for a in answers]
    assert statuses == ["PAID"] * PAYOUTS
    assert slow_provider.payouts_for("paygraph-") == PAYOUTS
    async with engine.connect() as connection:
        paid = await connection.scalar(
            select(func.count()).where(
                m.Payment.__table__.c.id.in_([p.payment_id for p in payouts]),
                m.Payment.__table__.c.status == "paid",
            )
        )
    assert paid == PAYOUTS
