"""Test databases: a fresh SQLite file, and (when configured) a fresh PostgreSQL database
that is created for this run and dropped after it."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import async_url, create_engine
from tests.backends import POSTGRESQL_RESOLVERS, SQLITE
from tests.read_paths import read_plainly

CI_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def postgres_admin_url() -> str | None:
    """Where to create test databases; None means PostgreSQL tests are skipped."""
    url = os.environ.get("PAYGRAPH_TEST_POSTGRES_URL")
    if url:
        return url
    return CI_POSTGRES_URL if in_ci() else None


@contextlib.asynccontextmanager
async def empty_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database of `backend` (tests.backends): a SQLite file in
    `directory`, or a PostgreSQL database, dropped on leaving. PostgreSQL tests are
    skipped unless configured, and fail in CI when its server is unusable."""
    if backend == SQLITE:
        yield f"sqlite+aiosqlite:///{directory / 'paygraph.db'}"
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
    plainly = read_plainly(url) if backend == POSTGRESQL_RESOLVERS else contextlib.nullcontext()
    try:
        with plainly:
            yield url
    finally:
        await drop_postgres_database(admin_url, url)


async def create_postgres_database(admin_url: str) -> str:
    name = f"paygraph_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, poolclass=_null_pool())
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return str(async_url(make_url(admin_url).set(database=name)).render_as_string(False))


async def drop_postgres_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(admin_url, poolclass=_null_pool())
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def _null_pool() -> type:
    from sqlalchemy.pool import NullPool

    return NullPool
