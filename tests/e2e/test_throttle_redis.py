"""Throttle buckets in a real Redis: the Lua script does the in-process arithmetic
atomically and gives every bucket a TTL; two `paygraph serve` processes configured with
the same Redis draw from one bucket (a caller that spends its points on one is THROTTLED
on the other, exports included); and a Redis that cannot be reached fails open to
per-process buckets, with a warning.

Redis is the one on 127.0.0.1:6379 (or PAYGRAPH_TEST_REDIS_URL). With CI=true these
tests fail when it is missing; elsewhere they are skipped. Every run uses keys of its own
prefix, so parallel runs never share a bucket."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from domain.permissions import ALL_PERMISSIONS
from domain.throttle import BucketLimits
from gateway.auth import mint_token
from gateway.redis_buckets import RedisBuckets
from gateway.settings import Settings
from schema.export_cost import EXPORT_COST
from tests.databases import in_ci
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.integration.test_query_cost_http import PAGE, PAGE_OF_IDS, code_of, full_page_tenant

CI_REDIS_URL = "redis://127.0.0.1:6379/0"
RUN_PREFIX = f"paygraph-test-{uuid.uuid4().hex[:12]}:"
LIMITS = BucketLimits(maximum=100, restore_rate=10.0)


def redis_url() -> str:
    return os.environ.get("PAYGRAPH_TEST_REDIS_URL", CI_REDIS_URL)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """The test Redis; its keys of this run are deleted afterwards."""
    client = Redis.from_url(redis_url(), socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except Exception as error:  # a missing server is a failure in CI, a skip elsewhere
        await client.aclose()
        if in_ci():
            pytest.fail(f"CI=true but Redis at {redis_url()} is unusable: {error!r}")
        pytest.skip(f"Redis at {redis_url()} is unusable: {error!r}")
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{RUN_PREFIX}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_the_lua_bucket_takes_refuses_refills_and_expires(redis: Redis) -> None:
    prefix = f"{RUN_PREFIX}lua:"
    buckets = RedisBuckets(Redis.from_url(redis_url()), prefix)
    try:
        taken = [await buckets.draw("a", 30, LIMITS) for _ in range(3)]
        refused = await buckets.draw("a", 30, LIMITS)
        given_back = await buckets.draw("a", -1000, LIMITS)
        other = await buckets.draw("b", 100, LIMITS)
        ttl = await redis.pttl(f"{prefix}a")
    finally:
        await buckets.close()

    assert [draw.allowed for draw in taken] == [True, True, True]
    assert taken[0].available == pytest.approx(70)  # a new bucket starts full
    assert not refused.allowed
    # 10 points left, plus what refilled meanwhile (10 a second); the wait is the rest.
    assert 10 <= refused.available < 30
    assert refused.retry_after == pytest.approx((30 - refused.available) / 10, abs=0.001)
    assert given_back.available == LIMITS.maximum  # never past the maximum
    assert other.allowed and other.available == pytest.approx(0, abs=0.5)
    # Full again after maximum / rate = 10 s: the key is gone a second later.
    assert 0 < ttl <= 11_000


async def test_an_unreachable_redis_fails_open_to_buckets_of_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    buckets = RedisBuckets.from_url("redis://127.0.0.1:1/0", f"{RUN_PREFIX}down:")
    try:
        with caplog.at_level(logging.WARNING, logger="paygraph.throttle"):
            draws = [await buckets.draw("a", 60, LIMITS) for _ in range(2)]
    finally:
        await buckets.close()

    # Still throttled, by this process's own bucket.
    assert [draw.allowed for draw in draws] == [True, False]
    warnings = [r.getMessage() for r in caplog.records if r.name == "paygraph.throttle"]
    assert len(warnings) == 1 and "unreachable" in warnings[0]


@pytest.fixture
def shared_redis_env(redis: Redis) -> dict[str, str]:
    return {
        "PAYGRAPH_REDIS_URL": redis_url(),
        "PAYGRAPH_REDIS_PREFIX": f"{RUN_PREFIX}servers:",
        "PAYGRAPH_MAX_QUERY_COST": "1000",
        "PAYGRAPH_THROTTLE_MAXIMUM": str(EXPORT_COST),
        # Slow on purpose: the bucket barely refills while the test spends it.
        "PAYGRAPH_THROTTLE_RESTORE_RATE": "1",
        "PAYGRAPH_EXPIRY_INTERVAL": "0",
    }


@pytest.fixture
def two_servers(
    database_url: str, shared_redis_env: dict[str, str]
) -> Iterator[tuple[RunningServer, RunningServer]]:
    with (
        running_server(database_url, env=shared_redis_env) as first,
        running_server(database_url, env=shared_redis_env) as second,
    ):
        yield first, second


async def post(server: RunningServer, headers: dict[str, str], query: str) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        response = await client.post(server.graphql_url, json={"query": query}, headers=headers)
        body: dict[str, Any] = response.json()
        return body


async def test_two_server_processes_draw_from_one_bucket_in_redis(
    engine: Any, two_servers: tuple[RunningServer, RunningServer]
) -> None:
    first, second = two_servers
    tenant, user, _ = await full_page_tenant(engine)
    jwt = mint_token(
        Settings(jwt_secret=TEST_JWT_SECRET),
        tenant_id=tenant,
        user_id=user,
        permissions=sorted(ALL_PERMISSIONS),
    )
    caller = {"Authorization": f"Bearer {jwt}"}

    looked = await post(second, caller, "{ viewer { tenant { id } } }")
    served = 0
    for _ in range(40):  # each page costs 201, all of it used, on the first server only
        body = await post(first, caller, PAGE_OF_IDS)
        if code_of(body) == "THROTTLED":
            break
        assert code_of(body) is None, body
        served += 1
    on_second = await post(second, caller, PAGE_OF_IDS)
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        export = await client.post(f"{second.url}/exports/payments", json={}, headers=caller)

    status = looked["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == EXPORT_COST
    assert status["currentlyAvailable"] >= EXPORT_COST - 2
    assert served >= (EXPORT_COST - 2) // (PAGE + 1)
    assert code_of(body) == "THROTTLED"
    # The second process saw what the first one spent.
    assert code_of(on_second) == "THROTTLED", on_second
    assert on_second["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < PAGE + 1
    assert export.status_code == 429
    assert export.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
