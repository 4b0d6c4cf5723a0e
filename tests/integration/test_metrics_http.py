"""/metrics over real HTTP (the app served by uvicorn in the test's loop, on each
backend): what requests add to it, the outbox's counts at scrape time, the optional
token, and the pool's waiting callers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import create_engine
from domain.permissions import ALL_PERMISSIONS
from domain.principal import Credential, Principal
from gateway import metrics
from gateway.app import create_app
from gateway.auth import mint_token
from gateway.export_slots import ExportSlots
from gateway.metrics import Holdings, holdings_watched
from gateway.metrics_settings import MetricsSettings
from gateway.request_budget import MIN_RESPONSE_BYTES, RequestBudget
from gateway.settings import Settings
from gateway.trusted_documents import TrustedDocument, TrustedDocuments
from tests.e2e.test_observability_workers import metric
from tests.factories import Factory
from tests.live_server import close_app_pools, serving
from tests.read_paths import read_path

SECRET = "metrics-test-secret-that-is-long-enough-0123456789"
SETTINGS = Settings(jwt_secret=SECRET)
COUNT = "paygraph_graphql_request_duration_seconds_count"


@contextlib.asynccontextmanager
async def gateway(
    engine: AsyncEngine,
    settings: MetricsSettings | None = None,
    budget: RequestBudget | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        read_path(engine).settings(SETTINGS),
        engine,
        metrics=settings or MetricsSettings(),
        budget=budget,
    )
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
    finally:
        await close_app_pools(app)


async def caller(engine: AsyncEngine) -> tuple[int, dict[str, str]]:
    factory = Factory(engine)
    tenant = await factory.tenant()
    user = await factory.user(tenant)
    jwt = mint_token(SETTINGS, tenant_id=tenant, user_id=user, permissions=sorted(ALL_PERMISSIONS))
    return tenant, {"Authorization": f"Bearer {jwt}"}


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    answer = await client.get("/metrics", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


async def test_requests_errors_cost_and_the_outbox_show_in_metrics(engine: AsyncEngine) -> None:
    tenant, headers = await caller(engine)
    async with gateway(engine) as client:
        before = await scrape(client)

        # when a named query runs 3 times, an invalid one once, and a notification waits
        for _ in range(3):
            ok = await client.post(
                "/graphql", json={"query": "query Scraped { viewer { scope } }"}, headers=headers
            )
            assert ok.status_code == 200
        await client.post(
            "/graphql", json={"query": "query Wrong { viewer { nope } }"}, headers=headers
        )
        async with engine.begin() as connection:
            row = {"tenant_id": tenant, "channel": "email", "topic": "t", "payload": "{}"}
            await connection.execute(
                insert(m.Outbox.__table__),
                [{**row, "status": "pending"}, {**row, "status": "dead"}],
            )
        after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return (metric(after, name, **labels) or 0) - (metric(before, name, **labels) or 0)

    # then each shows in /metrics
    assert grew(COUNT, operation="Scraped", operation_type="query") == 3
    assert grew("paygraph_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert grew("paygraph_graphql_requested_cost_count") == 3
    assert grew("paygraph_outbox_pending") == 1
    assert grew("paygraph_outbox_dead") == 1


async def test_an_answer_replaced_for_its_size_counts_as_its_error(engine: AsyncEngine) -> None:
    _, headers = await caller(engine)
    wide = "{ " + " ".join(f"a{n}: viewer {{ permissions }}" for n in range(12)) + " }"
    async with gateway(
        engine, budget=RequestBudget(max_response_bytes=MIN_RESPONSE_BYTES)
    ) as client:
        before = await scrape(client)
        answer = await client.post("/graphql", json={"query": wide}, headers=headers)
        after = await scrape(client)
    assert answer.json()["errors"][0]["extensions"]["code"] == "RESPONSE_TOO_LARGE"
    code = {"code": "RESPONSE_TOO_LARGE"}
    grown = (metric(after, "paygraph_errors_total", **code) or 0) - (
        metric(before, "paygraph_errors_total", **code) or 0
    )
    assert grown == 1


async def test_a_metrics_token_is_asked_for_when_set(engine: AsyncEngine) -> None:
    async with gateway(engine, MetricsSettings(token="scrape-secret")) as client:
        refused = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        text = await scrape(client, Authorization="Bearer scrape-secret")
    assert refused.status_code == wrong.status_code == 401
    assert "paygraph_outbox_dead" in text


async def test_metrics_can_be_switched_off(engine: AsyncEngine) -> None:
    async with gateway(engine, MetricsSettings(enabled=False)) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_the_pool_gauges_count_connections_in_use_and_callers_waiting(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the waiting count is PayGraph's PostgreSQL pool's (db.engine.WatchedPool)")
    engine = create_engine(database_url, pool_size=1, pool_timeout=30)
    holdings = Holdings({"main": engine.pool}, lambda: 0)
    try:
        async with holdings_watched(holdings), engine.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            # when a second caller asks the pool of one for a connection
            second = asyncio.create_task(_one_statement(engine))
            for _ in range(500):
                if getattr(engine.pool, "waiting", 0):
                    break
                await asyncio.sleep(0.01)
            metrics.sample()
            text = _exposition()
            # then one is in use and one waits
            assert metric(text, "paygraph_db_pool_in_use", pool="main") == 1
            assert metric(text, "paygraph_db_pool_waiting", pool="main") == 1
        await second
        metrics.sample()
    finally:
        await engine.dispose()


async def _one_statement(engine: AsyncEngine) -> Any:
    async with engine.connect() as connection:
        return await connection.exec_driver_sql("SELECT 1")


def _exposition() -> str:
    from prometheus_client import REGISTRY, generate_latest

    return generate_latest(REGISTRY).decode()


async def test_exports_in_flight_are_read_from_the_export_slots() -> None:
    # given an app's export slots, two of them taken
    slots = ExportSlots(overall=4, per_credential=2)
    first = slots.take(Principal(1, 1, Credential.JWT))
    second = slots.take(Principal(1, 2, Credential.JWT))
    assert first is not None and second is not None
    async with holdings_watched(Holdings({}, lambda: slots.running)):
        metrics.sample()
        assert metric(_exposition(), "paygraph_exports_in_flight") == 2
        # when one export ends, then one is left
        first.release()
        metrics.sample()
        assert metric(_exposition(), "paygraph_exports_in_flight") == 1
        second.release()


async def test_an_app_without_trusted_documents_labels_the_names_it_runs(
    engine: AsyncEngine,
) -> None:
    # given an app built with a manifest (its names are then the only labels), and then
    # one without, in the same process
    trusted = TrustedDocument("0" * 64, "query Pinned { viewer { scope } }", ("Pinned",))
    pinned = TrustedDocuments([trusted])
    settings = read_path(engine).settings(SETTINGS)
    await close_app_pools(create_app(settings, engine, metrics=MetricsSettings(), documents=pinned))
    assert metrics.operation_label("Unpinned") == metrics.OTHER
    _, headers = await caller(engine)

    # when the second app runs a named query
    async with gateway(engine) as client:
        query = {"query": "query Unpinned { viewer { scope } }"}
        assert (await client.post("/graphql", json=query, headers=headers)).status_code == 200
        text = await scrape(client)

    # then its name is its label: the first app's manifest does not hold for it
    assert metric(text, COUNT, operation="Unpinned", operation_type="query") >= 1
