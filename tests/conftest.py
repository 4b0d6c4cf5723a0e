"""Shared fixtures: one migrated database per backend per run, a schema-level executor,
and a running server for end-to-end tests."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.engine import create_engine
from db.migrate import upgrade
from tests.databases import (
    create_postgres_database,
    drop_postgres_database,
    in_ci,
    postgres_admin_url,
)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# Collect cyclic garbage less often. A test process's heap grows to millions of objects
# (SQLAlchemy's renderings of the read path's compiled statements, thousands of objects
# each, and hypothesis's strategies), and with Python's default thresholds (700, 10, 10)
# every quarter of growth cost a full collection over all of it: the aggregate oracle's PostgreSQL
# property spent 15 s of its 57 s CPU in 21 of them; with these, 4 s in none.
gc.set_threshold(50_000, 20, 10)


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> AsyncIterator[str]:
    """A migrated, empty database of each backend, created for this run."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "paygraph.db"
        url = f"sqlite+aiosqlite:///{path}"
        await _migrate(url)
        yield url
        return
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL tests need PAYGRAPH_TEST_POSTGRES_URL (or CI=true)")
    try:
        url = await create_postgres_database(admin_url)
    except Exception as error:  # a missing server is a failure in CI, a skip elsewhere
        if in_ci():
            pytest.fail(f"CI=true but PostgreSQL at {admin_url} is unusable: {error!r}")
        pytest.skip(f"PostgreSQL at {admin_url} is unusable: {error!r}")
    try:
        await _migrate(url)
        yield url
    finally:
        await drop_postgres_database(admin_url, url)


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[Any]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()
