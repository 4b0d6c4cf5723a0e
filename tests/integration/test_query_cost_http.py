"""Query cost and the per-credential throttle over real HTTP (the app served by uvicorn
in the test's loop, on each backend, with signed JWTs): the issue's 15-alias query is
refused with QUERY_TOO_COSTLY before a single SQL statement runs; every answer reports
its cost in Shopify's shape; a caller that spends its bucket is THROTTLED (GraphQL) or
gets 429 (exports), executing nothing, and is served again once the bucket refills."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.permissions import ALL_PERMISSIONS
from gateway.app import create_app
from gateway.auth import mint_token
from gateway.cost_settings import DEFAULT_MAX_QUERY_COST, CostSettings
from gateway.settings import Settings
from schema.export_cost import EXPORT_COST
from tests.factories import Factory, dashboard_graph, payment_row
from tests.graphql import count_statements
from tests.live_server import close_app_pools, serving
from tests.read_paths import read_path
from tests.unit.test_query_cost import issue_query

SECRET = "query-cost-test-secret-that-is-long-enough-0123456789"
SETTINGS = Settings(jwt_secret=SECRET)
PAGE = 200
PAGE_OF_IDS = f"{{ payments(first: {PAGE}) {{ nodes {{ id }} }} }}"  # costs 1 + 200


def token(tenant_id: int, user_id: int) -> dict[str, str]:
    jwt = mint_token(
        SETTINGS, tenant_id=tenant_id, user_id=user_id, permissions=sorted(ALL_PERMISSIONS)
    )
    return {"Authorization": f"Bearer {jwt}"}


@contextlib.asynccontextmanager
async def gateway(engine: AsyncEngine, cost: CostSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(read_path(engine).settings(SETTINGS), engine, cost=cost)
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client
    finally:
        # Served without its lifespan, whose background jobs would run statements of their
        # own: close its pools here instead.
        await close_app_pools(app)


async def ask(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=headers)


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or [{}]
    return errors[0].get("extensions", {}).get("code")


async def full_page_tenant(engine: AsyncEngine) -> tuple[int, int, int]:
    """A tenant with a full page of payments and two users."""
    factory = Factory(engine)
    tenant = await factory.tenant()
    first, second = await factory.user(tenant), await factory.user(tenant)
    rows = [payment_row(tenant, reference=f"P-{n}") for n in range(PAGE)]
    async with engine.begin() as connection:
        await connection.execute(insert(m.Payment.__table__), rows)
    return tenant, first, second


async def test_the_issues_fifteen_alias_query_is_refused_before_any_sql_runs(
    engine: AsyncEngine,
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=2)
    caller = token(graph.tenant_id, graph.admin_id)
    async with gateway(engine, CostSettings()) as client:
        # Once, so the credential's own check at the edge is behind us.
        assert (await ask(client, caller, "{ viewer { tenant { id } } }")).status_code == 200

        with count_statements(engine) as statements:
            response = await ask(client, caller, issue_query())

    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 121_809_015,
        "limit": DEFAULT_MAX_QUERY_COST,
    }
    assert "121809015" in error["message"] and str(DEFAULT_MAX_QUERY_COST) in error["message"]
    cost = body["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (121_809_015, 0)
    assert len(statements) == 0, statements.statements


async def test_every_answer_reports_its_requested_and_actual_cost_and_the_bucket(
    engine: AsyncEngine,
) -> None:
    graph = await dashboard_graph(Factory(engine), payments=3)
    caller = token(graph.tenant_id, graph.admin_id)
    query = "{ payments(first: 10) { totalCount nodes { id partner { id } merchant { id } } } }"
    settings = CostSettings()
    async with gateway(engine, settings) as client:
        body = (await ask(client, caller, query)).json()

    assert code_of(body) is None, body
    nodes = body["data"]["payments"]["nodes"]
    assert len(nodes) == 3 and all(n["partner"] and n["merchant"] for n in nodes)
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + 10 * 3
    assert cost["actualQueryCost"] == 1 + 3 * 3
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == settings.throttle_maximum
    assert status["restoreRate"] == settings.throttle_restore_rate
    # What was not used came back: the bucket lacks at most the actual cost.
    maximum = settings.throttle_maximum
    assert maximum - cost["actualQueryCost"] <= status["currentlyAvailable"] <= maximum


async def test_a_caller_out_of_points_is_throttled_executing_nothing_then_served_again(
    engine: AsyncEngine,
) -> None:
    tenant, spender, colleague = await full_page_tenant(engine)
    spending, other = token(tenant, spender), token(tenant, colleague)
    # Slow enough that the bucket empties however slowly a loaded machine answers.
    settings = CostSettings(max_query_cost=1000, throttle_maximum=2000, throttle_restore_rate=100)
    async with gateway(engine, settings) as client:
        served = 0
        for _ in range(60):  # each page costs 201, and all of it is used
            with count_statements(engine) as statements:
                throttled = await ask(client, spending, PAGE_OF_IDS)
            body = throttled.json()
            if code_of(body) == "THROTTLED":
                break
            assert code_of(body) is None, body
            assert len(body["data"]["payments"]["nodes"]) == PAGE
            served += 1
        exported = await client.post("/exports/payments", json={}, headers=spending)
        colleagues = await ask(client, other, PAGE_OF_IDS)
        retry_after = body["errors"][0]["extensions"]["retryAfter"]
        await asyncio.sleep(retry_after)
        again = await ask(client, spending, PAGE_OF_IDS)

    assert served >= settings.throttle_maximum // (PAGE + 1)
    assert throttled.status_code == 200 and body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "THROTTLED"
    assert error["extensions"]["cost"] == PAGE + 1
    assert 0 < retry_after <= (PAGE + 1) / settings.throttle_restore_rate + 0.01
    assert int(throttled.headers["Retry-After"]) >= 1
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < PAGE + 1
    assert len(statements) == 0, statements.statements
    # An export draws from the same bucket: refused with 429 and the usual JSON.
    assert exported.status_code == 429
    assert int(exported.headers["Retry-After"]) >= 1
    export_error = exported.json()["errors"][0]
    assert export_error["extensions"]["code"] == "THROTTLED"
    assert export_error["extensions"]["cost"] == EXPORT_COST
    assert exported.headers["X-Request-Id"] == export_error["extensions"]["requestId"]
    # Another user's bucket is untouched; the spender is served once the bucket refills.
    assert code_of(colleagues.json()) is None
    assert code_of(again.json()) is None, again.json()


async def test_an_export_takes_its_cost_from_the_callers_bucket(engine: AsyncEngine) -> None:
    tenant, user, _ = await full_page_tenant(engine)
    caller = token(tenant, user)
    maximum = EXPORT_COST + 500
    settings = CostSettings(max_query_cost=1000, throttle_maximum=maximum, throttle_restore_rate=1)
    async with gateway(engine, settings) as client:
        first = await client.post("/exports/payments", json={"format": "ndjson"}, headers=caller)
        after = (await ask(client, caller, "{ viewer { tenant { id } } }")).json()
        second = await client.post("/exports/payments", json={"format": "ndjson"}, headers=caller)

    assert first.status_code == 200
    assert len(first.text.splitlines()) == PAGE
    available = after["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
    # 2 points for the viewer query, and one a second (at most a generous minute's worth).
    assert maximum - EXPORT_COST - 2 <= available <= maximum - EXPORT_COST - 2 + 60
    assert second.status_code == 429
    assert second.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
