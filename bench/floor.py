"""The raw SQL floor: the statements PayGraph issues for a workload, with their
parameters, replayed by asyncpg in this process (no GraphQL, no HTTP), one request after
another on each of `concurrency` connections. It is the physical limit of one Python
process fetching the same rows with the same number of statements."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import asyncpg

from bench.inprocess import Statement, execute, statements_of
from bench.workloads import TENANT, Read
from db.engine import engine_for


@dataclass(frozen=True)
class FloorResult:
    requests: int
    duration_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s


async def capture(database_url: str, read: Read) -> list[Statement]:
    """PayGraph's statements for one request of `read` (after one warm-up request)."""
    async with engine_for(database_url) as engine:
        await execute(engine, read.query, TENANT, read.variables)
        return await statements_of(engine, read.query, TENANT, read.variables)


async def replay(
    dsn: str, statements: list[Statement], concurrency: int, duration_s: float
) -> FloorResult:
    """Run the statements as one request, over and over, on `concurrency` connections for
    `duration_s` seconds; every row is fetched and decoded, as PayGraph's loaders do."""
    latencies: list[float] = []
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    try:
        async with pool.acquire() as warm:  # prepare the statements once
            for sql, parameters in statements:
                await warm.fetch(sql, *parameters)
        deadline = time.perf_counter() + duration_s

        async def worker() -> None:
            async with pool.acquire() as connection:
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    for sql, parameters in statements:
                        await connection.fetch(sql, *parameters)
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    ordered = sorted(latencies)
    return FloorResult(
        requests=len(ordered),
        duration_s=elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p90_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )
