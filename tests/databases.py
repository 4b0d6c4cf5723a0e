"""Test databases: a fresh SQLite file, and (when configured) a fresh PostgreSQL database
that is created for this run and dropped after it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import async_url, create_engine
from db.migrate import upgrade
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
async def migrated_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """The URL of a new, migrated, empty database of `backend` (tests.backends): a SQLite
    file in `directory`, or a PostgreSQL database, dropped on leaving. Each is a copy of
    a database this test process migrated once per backend (`MIGRATED`): migrating took
    ~0.3 s of the test process's CPU and ~1 s of PostgreSQL's time per database, and the
    suite makes some hundred. PostgreSQL tests are skipped unless configured, and fail
    in CI when its server is unusable."""
    if backend == SQLITE:
        yield await MIGRATED.copy_sqlite(directory / "paygraph.db")
        return
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL tests need PAYGRAPH_TEST_POSTGRES_URL (or CI=true)")
    try:
        url = await MIGRATED.copy_postgres(admin_url)
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


class MigratedTemplates:
    """The migrated database each test process copies for a new one: a SQLite file, and
    a PostgreSQL database (`CREATE DATABASE ... TEMPLATE`), made on first use and dropped
    when the test session ends (tests/conftest.py)."""

    def __init__(self) -> None:
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    async def copy_sqlite(self, path: Path) -> str:
        if self._sqlite is None:
            template = Path(tempfile.mkdtemp(prefix="paygraph-template-")) / "paygraph.db"
            await migrate(_sqlite_url(template))
            self._sqlite = template
        shutil.copyfile(self._sqlite, path)  # whole: migrate closed it, so no -wal is left
        return _sqlite_url(path)

    async def copy_postgres(self, admin_url: str) -> str:
        if self._postgres is None:
            template = await create_postgres_database(admin_url)
            await migrate(template)
            self._postgres = template
        return await create_postgres_database(admin_url, template=self._postgres)

    async def drop(self) -> None:
        admin_url = postgres_admin_url()
        if self._postgres is not None and admin_url is not None:
            await drop_postgres_database(admin_url, self._postgres)
        if self._sqlite is not None:
            shutil.rmtree(self._sqlite.parent, ignore_errors=True)
        self._sqlite = self._postgres = None


MIGRATED = MigratedTemplates()


async def migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def create_postgres_database(admin_url: str, *, template: str | None = None) -> str:
    """A new database; a copy of the database at URL `template` if given (which nobody
    may be connected to)."""
    name = f"paygraph_test_{uuid.uuid4().hex[:12]}"
    copied = f' TEMPLATE "{make_url(template).database}"' if template else ""
    admin = create_engine(admin_url, poolclass=_null_pool())
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
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
