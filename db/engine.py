"""Engine setup for the embedded SQLite default and for PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from db.database_url import ASYNC_DRIVERS
from domain.errors import RequestTimedOut


def async_url(url: str | URL) -> URL:
    """Accept `postgresql://` or `sqlite:///` and pick the async driver."""
    parsed = make_url(url)
    driver = ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


POOL_SIZE = 20


class WatchedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, counting the callers waiting for a connection (the
    /metrics gauge paygraph_db_pool_waiting): a checkout that finds a connection free
    returns at once, so whoever reads `waiting` sees only those that wait."""

    waiting = 0

    def _do_get(self) -> Any:
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1


# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (or a cancel request).
QUERY_CANCELED = "57014"
STATEMENT_TIMED_OUT = "The request took longer than the database allows a statement."


def create_engine(
    url: str | URL, *, statement_timeout: float | None = None, **options: Any
) -> AsyncEngine:
    """An engine for `url`. `statement_timeout` (seconds, PostgreSQL only) bounds every
    statement on its connections, set once per connection as a server setting so it
    costs no round trip; a statement it stops raises RequestTimedOut."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if statement_timeout is not None:
        milliseconds = str(max(1, round(statement_timeout * 1000)))
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("server_settings", {})["statement_timeout"] = milliseconds
    if "poolclass" not in options:
        # A steady pool and no overflow: a page's relations are loaded in parallel, and
        # overflow connections were opened for a burst and closed right after it (asyncpg's
        # connect, with its TLS probe, showed up in W1's profile); beyond 20 statements in
        # flight a batch waits for a connection instead.
        options.setdefault("pool_size", POOL_SIZE)
        options.setdefault("max_overflow", 0)
        # No pre-ping: with asyncpg it is a BEGIN, a `;` and a ROLLBACK on every checkout,
        # three round trips per loader batch. A connection the server dropped fails its
        # statement instead, and SQLAlchemy then invalidates the whole pool; recycling
        # keeps idle connections from outliving server-side timeouts.
        options.setdefault("pool_recycle", 1800)
        options["poolclass"] = WatchedPool
    engine = create_async_engine(parsed, **options)
    event.listen(engine.sync_engine, "handle_error", _statement_timed_out, retval=True)
    return engine


def _statement_timed_out(context: Any) -> BaseException | None:
    """A statement PostgreSQL cancelled (statement_timeout) is the request's deadline at
    work, not a server fault: it becomes RequestTimedOut, which has a code."""
    if getattr(context.original_exception, "sqlstate", None) == QUERY_CANCELED:
        return RequestTimedOut(STATEMENT_TIMED_OUT)
    return None


@contextlib.asynccontextmanager
async def engine_for(url: str | URL, **options: Any) -> AsyncIterator[AsyncEngine]:
    """An engine for one command or script, disposed when it is done."""
    engine = create_engine(url, **options)
    try:
        yield engine
    finally:
        await engine.dispose()


async def analyze(engine: AsyncEngine, table: str | None = None) -> None:
    """Fresh planner statistics after a bulk load (of `table`, or of every table), in a
    transaction that commits: PostgreSQL keeps what a rolled-back ANALYZE found only until
    the rollback, and that is how a bare connect() block ends."""
    async with engine.begin() as connection:
        await connection.execute(text(f"ANALYZE {table}" if table else "ANALYZE"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool in autocommit: a loader batch is one statement, with no BEGIN or
    ROLLBACK round trip around it."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def write_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine units of work write through. PostgreSQL: the pool itself (transitions
    lock their rows with FOR UPDATE). SQLite: a second engine on the same file whose
    transactions begin with BEGIN IMMEDIATE, taking the database's write lock before the
    first read, because the driver's own lazy BEGIN would let a transaction read, lose
    a race and then write over what it read. Dispose it with the main engine."""
    if engine.dialect.name != "sqlite":
        return engine
    writer = create_engine(engine.url)
    event.listen(writer.sync_engine, "connect", _driver_begins_nothing)
    event.listen(writer.sync_engine, "begin", _begin_immediate)
    return writer


def _driver_begins_nothing(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
