"""Every payment matching a filter, streamed from a server-side cursor.

PostgreSQL (asyncpg) keeps the cursor open inside one read transaction and hands over
`chunk` rows at a time, so memory holds one chunk whatever the export's size; SQLite's
driver steps its cursor the same way. The rows are the caller's (the same `visible`
scope as every read) and the filter is the same SQL as the lists'.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import create_engine
from db.filters import order_by, where
from db.models.base import table_of
from db.scopes import visible
from domain.access import ReadScope
from domain.filtering import Filter, SortKey

PAYMENT = table_of(m.Payment)
DEFAULT_CHUNK = 2_000


async def exported_payments(
    engine: AsyncEngine,
    scope: ReadScope,
    tree: Filter | None,
    order: tuple[SortKey, ...],
    columns: Sequence[str],
    *,
    chunk: int = DEFAULT_CHUNK,
) -> AsyncGenerator[Sequence[Any], None]:
    """Chunks of rows (tuples of `columns`), in `order`. Needs an engine that opens
    transactions (not the autocommit read engine): the cursor lives in one. Closing the
    generator closes the cursor and returns the connection."""
    statement = (
        select(*(PAYMENT.c[name] for name in columns))
        .where(visible(PAYMENT, scope), where(PAYMENT, tree, scope))
        .order_by(*order_by(PAYMENT, order))
        .execution_options(yield_per=chunk)
    )
    async with engine.connect() as connection, connection.stream(statement) as result:
        async for rows in result.partitions(chunk):
            yield rows


def export_engine(url: str | URL, connections: int) -> AsyncEngine:
    """The exports' own engine: `connections` connections apart from the GraphQL pool,
    so exports, however many and however slow their clients, never take a connection
    a read needs. No statement timeout: an export is long by nature (its clients are
    bounded by the send timeout instead)."""
    return create_engine(url, pool_size=connections, max_overflow=0)
