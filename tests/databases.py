"""Test databases: a fresh SQLite file, and (when configured) a fresh PostgreSQL database
that is created for this run and dropped after it."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import async_url, create_engine

CI_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def postgres_admin_url() -> str | None:
    """Where to create test databases; None means PostgreSQL tests are skipped."""
    url = os.environ.get("PAYGRAPH_TEST_POSTGRES_URL")
    if url:
        return url
    return CI_POSTGRES_URL if in_ci() else None


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
