"""The benchmark's read workloads (bench/queries W1-W3, run by `bench/run`) cost a fixed
number of SQL statements, whatever the page size: on PostgreSQL each is one compiled
statement that builds the whole answer (db.compiled_reads); through the resolvers every
relation of the 100-payment dashboard page and of the 200-row portfolio page comes
through a per-request loader, and the statement's aggregate is one GROUP BY. This test
keeps those counts from regressing (`bench/run` measures the time; tests assert counts,
not timings).

The data is the benchmark's shape at a small size: three tenants, partners whose business
follows 1/rank (so one portfolio fills a page of 200), detail rows and documents on every
payment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.workloads import TENANT, reads, targets
from db.demo import Scale, load_demo
from db.engine import create_engine
from tests.backends import POSTGRESQL, POSTGRESQL_RESOLVERS, SQLITE, on
from tests.databases import migrated_database
from tests.graphql import admin, compiling, count_statements, execute

SMALL_BENCH = Scale((3, 2, 1), 15, 60, every_payment_has_children=True, skewed=True)
PAYMENTS = 3_000
# Statements per request; the same for both page sizes below. Compiled (PostgreSQL), each
# workload is one statement that builds its JSON; through the resolvers (SQLite, the
# postgresql-resolvers backend, or PAYGRAPH_COMPILED_READS=off), one per relation.
COMPILED = {"W1": 1, "W2": 1, "W3": 1}
RESOLVED = {"W1": 8, "W2": 5, "W3": 3}


@pytest.fixture(params=on(SQLITE, POSTGRESQL, POSTGRESQL_RESOLVERS))
async def dataset(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: None
) -> AsyncIterator[AsyncEngine]:
    """A fresh database with the small benchmark dataset (load_demo needs an empty one)."""
    async with migrated_database(request.param, tmp_path) as url:
        engine = create_engine(url)
        try:
            await load_demo(engine, payments=PAYMENTS, scale=SMALL_BENCH)
            yield engine
        finally:
            await engine.dispose()


async def _statements(engine: AsyncEngine, query: str, variables: dict) -> tuple[int, dict]:
    with count_statements(engine) as counter:
        result = await execute(engine, query, admin(TENANT), **variables)
    assert result.errors is None, result.errors
    return len(counter), result.data


async def test_w1_to_w3_statement_counts_do_not_depend_on_the_page_size(dataset):
    at = await targets(dataset)
    assert at.acquiring >= 200  # the portfolio fills W2's page of 200
    small, full = reads(at, w1_page=10, w2_page=10), reads(at)
    expected = COMPILED if compiling(dataset) else RESOLVED
    for few, many in zip(small, full, strict=True):
        few_count, few_data = await _statements(dataset, few.query, few.variables)
        many_count, many_data = await _statements(dataset, many.query, many.variables)
        # Asked again, a compiled statement is replayed on the driver (db.compiled_reads):
        # still counted, and still the same answer.
        again_count, again_data = await _statements(dataset, many.query, many.variables)
        assert (few.name, few_count, many_count, again_count) == (
            few.name,
            expected[few.name],
            expected[few.name],
            expected[few.name],
        )
        assert again_data == many_data
        if few.name == "W1":
            assert len(few_data["payments"]["nodes"]) == 10
            rows = many_data["payments"]["nodes"]
            assert len(rows) == 100
            assert {row["kind"] for row in rows} == {
                "COMMISSION",
                "ACQUIRING",
                "RESELLER",
                "INVOICE",
            }
            assert all(row["documents"]["nodes"] and row["details"]["nodes"] for row in rows)
        elif few.name == "W2":
            assert len(few_data["partner"]["payments"]["data"]) == 10
            assert len(many_data["partner"]["payments"]["data"]) == 200
            assert many_data["partner"]["payments"]["total"] == at.acquiring
        else:
            groups = many_data["partner"]["payments"]["groupBy"]["nodes"]
            assert groups and sum(group["count"] for group in groups) > 0


async def test_the_demo_leaves_planner_statistics_behind(dataset):
    """The demo's closing ANALYZE commits: without statistics PostgreSQL planned a page of
    detail rows as a scan of the tenant's every detail row (SQLite keeps sqlite_stat1)."""
    async with dataset.connect() as conn:
        if conn.dialect.name == "postgresql":
            query = "SELECT count(*) FROM pg_stats WHERE tablename = 'payment_detail'"
        else:
            query = "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'payment_detail'"
        assert (await conn.execute(text(query))).scalar_one() > 0
