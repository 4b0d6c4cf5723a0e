"""Reaching the database a command was given, before migrating it: a PostgreSQL database
that does not exist yet is created when the URL's user may create databases; anything
else in the way (no server there, an unknown user, a refused password, a SQLite file that
cannot be opened) becomes DatabaseUnavailable, whose one line says what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

# PostgreSQL's SQLSTATEs for a database that does not exist, and for one created by
# someone else in the meantime (a second instance starting beside us).
INVALID_CATALOG_NAME = "3D000"
DUPLICATE_DATABASE = "42P04"
# Where to connect to create a database: the maintenance database, or the template.
MAINTENANCE_DATABASES = ("postgres", "template1")


class DatabaseUnavailable(Exception):
    """The database cannot be used; its text is one line naming it and why."""


async def open_database(engine: AsyncEngine) -> None:
    """Connect once (the connection goes back to the pool for the migration), creating
    a SQLite file's folder, or a missing PostgreSQL database when the URL's user may."""
    try:
        await _connect(engine)
    except DBAPIError as error:
        if _sqlstate(error) != INVALID_CATALOG_NAME:
            raise DatabaseUnavailable(_why(engine.url, error)) from None
        await create_database(engine.url)
        await _connect(engine)


async def create_database(url: URL) -> None:
    """CREATE DATABASE for `url`'s database, as its own user, when that user is a
    superuser or has CREATEDB; else DatabaseUnavailable naming the database."""
    name = url.database or ""
    where = _where(url)
    for maintenance in MAINTENANCE_DATABASES:
        admin = create_async_engine(
            url.set(database=maintenance), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            async with admin.connect() as connection:
                allowed = await connection.scalar(
                    text(
                        "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
                    )
                )
                if not allowed:
                    raise DatabaseUnavailable(
                        f"PostgreSQL database {name!r} does not exist on {where}, and user "
                        f"{url.username!r} may not create databases: create it (createdb "
                        f"{name}) or give a DATABASE_URL whose user has CREATEDB"
                    )
                quoted = connection.dialect.identifier_preparer.quote_identifier(name)
                try:
                    await connection.execute(text(f"CREATE DATABASE {quoted}"))
                except DBAPIError as error:
                    if _sqlstate(error) != DUPLICATE_DATABASE:
                        raise DatabaseUnavailable(_why(url, error)) from None
                return
        except DBAPIError as error:
            if _sqlstate(error) == INVALID_CATALOG_NAME:
                continue  # no such maintenance database: try the next
            raise DatabaseUnavailable(_why(url, error)) from None
        except OSError as error:
            raise DatabaseUnavailable(_unreachable(url, error)) from None
        finally:
            await admin.dispose()
    raise DatabaseUnavailable(
        f"PostgreSQL database {name!r} does not exist on {where}, and neither does "
        f"{' nor '.join(MAINTENANCE_DATABASES)} to create it from: create it (createdb {name})"
    )


async def _connect(engine: AsyncEngine) -> None:
    try:
        if engine.url.get_backend_name() == "sqlite" and engine.url.database:
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        async with engine.connect():
            pass
    except OSError as error:  # refused, unknown host, a SQLite folder we cannot write
        raise DatabaseUnavailable(_unreachable(engine.url, error)) from None


def _why(url: URL, error: DBAPIError) -> str:
    # The driver's own first line: "password authentication failed for user ...",
    # "role ... does not exist", "unable to open database file". Never the URL itself,
    # which may hold the password.
    reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    if url.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {url.database!r}: {reason}"
    return f"cannot use PostgreSQL database {url.database!r} on {_where(url)}: {reason}"


def _unreachable(url: URL, error: OSError) -> str:
    reason = error.strerror or str(error)
    if url.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {url.database!r}: {reason}"
    return f"cannot reach PostgreSQL on {_where(url)}: {reason}"


def _where(url: URL) -> str:
    return f"{url.host or 'localhost'}:{url.port or 5432}"


def _sqlstate(error: DBAPIError) -> str | None:
    state: Any = getattr(error.orig, "sqlstate", None)
    return state if isinstance(state, str) else None
