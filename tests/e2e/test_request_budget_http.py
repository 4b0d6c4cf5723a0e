"""A deadline and a size cap for every request, the edge's headers, and tokens naming
users that do not exist, over real HTTP on both backends (the app served in-process on
the test's own database).

A request stopped by its deadline answers REQUEST_TIMEOUT and leaves nothing behind: no
pooled connection checked out, no task, no lock, no row, no claimed idempotency key.
On PostgreSQL a statement stopped by statement_timeout answers the same code. An answer
larger than the cap becomes RESPONSE_TOO_LARGE. Tokens naming an unknown user or tenant,
or a user or partner of another tenant, are refused at the edge with 401 on reads and
mutations alike, and write nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import create_engine
from domain.permissions import ALL_PERMISSIONS
from gateway.app import create_app
from gateway.auth import mint_token
from gateway.request_budget import RequestBudget
from gateway.settings import Settings
from tests.e2e.server import TLS
from tests.factories import DashboardGraph, Factory, dashboard_graph, unique
from tests.graphql import global_id
from tests.live_server import close_app_pools, serving
from tests.raw_http import unfinished_request
from tests.uploads import MULTIPART, PDF, document_upload

SECRET = "request-budget-test-secret-long-enough-0123456789"
SETTINGS = Settings(jwt_secret=SECRET)
# Shorter than any operation that reaches the database: it expires at the first wait.
INSTANT = 0.000_001
PAYMENTS = """query($first: Int) { payments(first: $first) { totalCount nodes {
  id reference amount { amount currency } partner { id name } invoice { id } } } }"""
CREATE = """mutation($input: CreatePaymentInput!, $key: String!) {
  createPayment(input: $input, idempotencyKey: $key) { payment { id } } }"""
WRITTEN = ("payment", "payment_event", "accounting_transaction", "outbox", "idempotency_key")


@contextlib.asynccontextmanager
async def site(
    engine: AsyncEngine, tmp_path: Path, budget: RequestBudget | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The whole app (edge, GraphQL, pools) on `engine`, served on a free port."""
    settings = Settings(jwt_secret=SECRET, storage_dir=str(tmp_path / "documents"))
    app = create_app(settings, engine, budget=budget or RequestBudget())
    try:
        async with (
            serving(app) as url,
            httpx.AsyncClient(verify=TLS, base_url=url, timeout=30) as client,
        ):
            yield client, app
    finally:
        await close_app_pools(app)


def bearer(tenant_id: int, user_id: int, **claims: Any) -> dict[str, str]:
    token = mint_token(
        SETTINGS, tenant_id=tenant_id, user_id=user_id, permissions=ALL_PERMISSIONS, **claims
    )
    return {"Authorization": f"Bearer {token}"}


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any
) -> httpx.Response:
    body = {"query": query, "variables": variables}
    return await client.post("/graphql", json=body, headers=headers)


async def open_invoice(f: Factory, graph: DashboardGraph) -> str:
    """The global id of a new open invoice of `graph`'s tenant, with room to pay."""
    invoice = await f.insert(
        m.Invoice,
        tenant_id=graph.tenant_id,
        number=unique("INV-"),
        total_amount=1_000_000,
        currency="USD",
        status="open",
        issued_on=date(2025, 3, 1),
    )
    return global_id("Invoice", invoice)


def create_payment(invoice: str, key: str) -> dict[str, Any]:
    return {"input": {"invoiceId": invoice, "amount": 100}, "key": key}


def refused(response: httpx.Response, code: str, status: int = 200) -> dict[str, Any]:
    """The one error of an answer replaced whole, carrying `code` and the request id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": code, "requestId": response.headers["x-request-id"]}
    error_: dict[str, Any] = error
    return error_


async def rows_written(engine: AsyncEngine, *tenants: int) -> dict[str, int]:
    among = ", ".join(str(int(tenant)) for tenant in tenants)
    async with engine.connect() as connection:
        return {
            table: (
                await connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id IN ({among})")
                )
            ).scalar_one()
            for table in WRITTEN
        }


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 10) -> bool:
    """Whether `condition` holds, polled until it does (or `within` seconds pass: only
    a bound for a hung test, never what passes it)."""
    async with asyncio.timeout(within):
        while not await condition():
            await asyncio.sleep(0.02)
    return True


async def nothing_held(app: Any, tasks_before: int) -> bool:
    """No pooled connection checked out, and no task beyond those running before."""
    pools = {app.state.engine.pool, app.state.write_engine.pool}
    return all(pool.checkedout() == 0 for pool in pools) and (
        len(asyncio.all_tasks()) <= tasks_before
    )


# --- the deadline -------------------------------------------------------------------------


async def test_a_read_past_its_deadline_answers_request_timeout_and_holds_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=5)
    headers = bearer(graph.tenant_id, graph.admin_id)
    async with site(engine, tmp_path, RequestBudget(request_timeout=INSTANT)) as (client, app):
        tasks_before = len(asyncio.all_tasks())

        response = await post(client, headers, PAYMENTS, first=5)

        error = refused(response, "REQUEST_TIMEOUT")
        assert "longer than" in error["message"]
        assert await eventually(lambda: nothing_held(app, tasks_before))


async def test_a_mutation_past_its_deadline_writes_nothing_and_frees_its_key(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    f = Factory(engine)
    graph = await dashboard_graph(f, payments=1)
    invoice = await open_invoice(f, graph)
    headers = bearer(graph.tenant_id, graph.admin_id)
    before = await rows_written(engine, graph.tenant_id)
    async with site(engine, tmp_path, RequestBudget(request_timeout=INSTANT)) as (client, app):
        tasks_before = len(asyncio.all_tasks())

        response = await post(client, headers, CREATE, **create_payment(invoice, "deadline-1"))

        refused(response, "REQUEST_TIMEOUT")
        assert await eventually(lambda: nothing_held(app, tasks_before))
    assert await rows_written(engine, graph.tenant_id) == before
    # The key is free: the same request, given time, is done once.
    async with site(engine, tmp_path) as (client, _):
        done = await post(client, headers, CREATE, **create_payment(invoice, "deadline-1"))
    assert (done.json()["data"] or {}).get("createPayment"), done.text
    after = await rows_written(engine, graph.tenant_id)
    assert after["payment"] == before["payment"] + 1
    assert after["idempotency_key"] == before["idempotency_key"] + 1


@contextlib.asynccontextmanager
async def payments_locked(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The payment table locked against every reader by a connection of a pool apart,
    until the block ends; yields that pool's engine, to look at the server from it."""
    locker = create_engine(database_url)
    try:
        async with locker.connect() as connection, connection.begin():
            await connection.execute(text("LOCK TABLE payment IN ACCESS EXCLUSIVE MODE"))
            yield locker
    finally:
        await locker.dispose()


async def no_lock_waits(locker: AsyncEngine) -> bool:
    async with locker.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        )
        return int(found.scalar_one()) == 0


# PostgreSQL's locks, pg_stat_activity and statement_timeout.
ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@ON_POSTGRESQL
async def test_a_read_waiting_on_a_lock_past_its_deadline_is_cancelled_in_the_database(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=2)
    headers = bearer(graph.tenant_id, graph.admin_id)
    async with site(engine, tmp_path, RequestBudget(request_timeout=0.5)) as (client, app):
        # Once before the lock: the compiled statement is then replayed on the driver
        # connection (db.compiled_reads), and that is what the deadline must cancel. On a
        # busy machine, building the plan the first time may take longer than 0.5 s.
        for _ in range(5):
            if (await post(client, headers, PAYMENTS, first=2)).json().get("data"):
                break
        else:
            pytest.fail("the payments never answered within 0.5 s, even unlocked")
        tasks_before = len(asyncio.all_tasks())
        async with payments_locked(database_url) as locker:
            response = await post(client, headers, PAYMENTS, first=2)

            refused(response, "REQUEST_TIMEOUT")
            # The operation was costed before it ran, and the answer still says so.
            assert response.json()["extensions"]["cost"]["requestedQueryCost"] > 0
            # While the lock is still held: the statement no longer waits on it.
            assert await eventually(lambda: nothing_held(app, tasks_before))
            assert await eventually(lambda: no_lock_waits(locker))


@ON_POSTGRESQL
async def test_a_statement_stopped_by_statement_timeout_answers_request_timeout(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=2)
    headers = bearer(graph.tenant_id, graph.admin_id)
    short = create_engine(database_url, statement_timeout=0.2)
    try:
        async with site(short, tmp_path, RequestBudget(request_timeout=60)) as (client, _):
            # Once before the lock: the compiled statement is then replayed on the driver
            # connection (db.compiled_reads), whose timeout must read the same.
            assert (await post(client, headers, PAYMENTS, first=2)).json().get("data")
            async with payments_locked(database_url):
                response = await post(client, headers, PAYMENTS, first=2)

                body = response.json()
                assert response.status_code == 200
                assert body["data"] is None
                codes = {error["extensions"]["code"] for error in body["errors"]}
                assert codes == {"REQUEST_TIMEOUT"}
                assert short.pool.checkedout() == 0
    finally:
        await short.dispose()


# --- the response cap ---------------------------------------------------------------------


async def test_an_answer_over_the_response_cap_is_replaced_by_response_too_large(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=20)
    headers = bearer(graph.tenant_id, graph.admin_id)
    async with site(engine, tmp_path, RequestBudget(max_response_bytes=2048)) as (client, _):
        small = await post(client, headers, "{ viewer { credential } }")
        large = await post(client, headers, PAYMENTS, first=20)

    assert small.json()["data"] == {"viewer": {"credential": "JWT"}}
    error = refused(large, "RESPONSE_TOO_LARGE")
    assert large.json().get("extensions", {}).keys() == small.json().get("extensions", {}).keys()
    assert "2048 allowed" in error["message"]
    assert int(large.headers["content-length"]) == len(large.content) < 2048


# --- the edge's headers -------------------------------------------------------------------


async def test_graphql_answers_and_refusals_carry_nosniff_and_no_store(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=1)
    async with site(engine, tmp_path) as (client, _):
        answers = {
            "answer": await post(client, bearer(graph.tenant_id, graph.admin_id), PAYMENTS),
            "401": await post(client, {}, PAYMENTS),
            "400": await client.post(
                "/graphql",
                content=b"42",
                headers={
                    **bearer(graph.tenant_id, graph.admin_id),
                    "Content-Type": "application/json",
                },
            ),
            # Strawberry's own plain-text refusal, past the edge
            "strawberry": await client.post(
                "/graphql",
                content=b"query=x",
                headers={
                    **bearer(graph.tenant_id, graph.admin_id),
                    "Content-Type": "text/plain",
                },
            ),
        }

    assert [answer.status_code for answer in answers.values()] == [200, 401, 400, 400]
    for name, answer in answers.items():
        assert answer.headers["x-content-type-options"] == "nosniff", name
        assert answer.headers["cache-control"] == "no-store", name
    refused(answers["400"], "BAD_REQUEST", status=400)


# --- principals that do not exist ---------------------------------------------------------


async def test_tokens_naming_unknown_or_foreign_principals_are_refused_and_write_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    f = Factory(engine)
    ours = await dashboard_graph(f, payments=1)
    theirs = await dashboard_graph(f, payments=1)
    unknown = 10**15
    tokens = {
        "unknown user": bearer(ours.tenant_id, unknown),
        "unknown tenant": bearer(unknown, ours.admin_id),
        "another tenant's user": bearer(theirs.tenant_id, ours.admin_id),
        "unknown partner": bearer(ours.tenant_id, ours.admin_id, partner_id=unknown),
        "another tenant's partner": bearer(
            ours.tenant_id, ours.admin_id, partner_id=theirs.partner_id
        ),
    }
    invoices = [await open_invoice(f, ours), await open_invoice(f, theirs)]
    before = await rows_written(engine, ours.tenant_id, theirs.tenant_id)
    async with site(engine, tmp_path) as (client, _):
        for name, headers in tokens.items():
            for document, variables in (
                (PAYMENTS, {}),
                *((CREATE, create_payment(invoice, f"foreign-{name}")) for invoice in invoices),
            ):
                response = await post(client, headers, document, **variables)

                error = refused(response, "UNAUTHENTICATED", status=401)
                assert "unknown" in error["message"], name
                assert response.headers["www-authenticate"].startswith("Bearer")
        # The real principals still pass
        mine = await post(client, bearer(ours.tenant_id, ours.admin_id), PAYMENTS)
        partner = bearer(ours.tenant_id, ours.admin_id, partner_id=ours.partner_id)
        as_partner = await post(client, partner, PAYMENTS)

    assert mine.json()["data"]["payments"]["totalCount"] == 1
    assert "errors" not in as_partner.json(), as_partner.text
    assert await rows_written(engine, ours.tenant_id, theirs.tenant_id) == before


# --- a body that stops arriving -------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, body_start",
    [
        ("application/json", b'{"query": "{ viewer { credential'),
        (
            MULTIPART,
            document_upload(
                "UGF5bWVudDox", file_name="a.pdf", content_type="application/pdf", data=PDF
            )[:200],
        ),
    ],
    ids=["json", "upload"],
)
async def test_a_body_that_stops_arriving_is_answered_408_and_holds_nothing(
    engine: AsyncEngine, tmp_path: Path, content_type: str, body_start: bytes
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=1)
    headers = {**bearer(graph.tenant_id, graph.admin_id), "Content-Type": content_type}
    async with site(engine, tmp_path, RequestBudget(request_timeout=0.5)) as (client, app):
        tasks_before = len(asyncio.all_tasks())

        # The headers promise 4,000 bytes of body; 200 or fewer come, then nothing (the
        # timeout only bounds a hung test: before, the server waited for ever).
        async with asyncio.timeout(30):
            response = await unfinished_request(
                str(client.base_url), "/graphql", headers, body_start, declared_length=4_000
            )

        assert response.status == 408
        [error] = response.json()["errors"]
        assert error["extensions"] == {
            "code": "REQUEST_TIMEOUT",
            "requestId": response.headers["x-request-id"],
        }
        assert await eventually(lambda: nothing_held(app, tasks_before))
