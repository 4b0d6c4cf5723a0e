"""How a unit of work announces the payments it changed (domain.payment_changes).

On PostgreSQL the announcement is a `pg_notify` inside the transaction: PostgreSQL
delivers it to every listening gateway only if the transaction commits, and never
before. Brokers that are not the database (Redis, the in-process one) are told after
the commit instead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.payment_changes import PaymentChange

# The PostgreSQL channel every gateway listens on.
CHANNEL = "paygraph_payment_changes"


class ChangeAnnouncer(Protocol):
    async def in_transaction(
        self, connection: AsyncConnection, changes: Sequence[PaymentChange]
    ) -> None:
        """Called just before the commit, on the transaction's connection."""

    async def committed(self, changes: Sequence[PaymentChange]) -> None:
        """Called once the transaction committed."""


class NotifyInTransaction:
    """PostgreSQL LISTEN/NOTIFY: one `pg_notify` per change, delivered on commit."""

    async def in_transaction(
        self, connection: AsyncConnection, changes: Sequence[PaymentChange]
    ) -> None:
        for change in changes:
            await connection.execute(select(func.pg_notify(CHANNEL, change.encode())))

    async def committed(self, changes: Sequence[PaymentChange]) -> None:
        return None
