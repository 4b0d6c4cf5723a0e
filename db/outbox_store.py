"""The outbox table as a work queue: claim due rows under a lease, record each outcome.

A claim is one short transaction: it picks the oldest due rows and moves their
`next_attempt_at` to the end of a lease, so no other dispatcher takes them while they are
being sent; it commits before anything is sent. On PostgreSQL the picking query locks with
`FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint rows without waiting; on
SQLite (one writer at a time) the single UPDATE statement is atomic on its own.

The lease's end is also the claim's token: an outcome is written only while the row still
carries it, so a dispatcher whose lease ran out (and whose rows another one took) cannot
overwrite the newer claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Outbox
from db.models.types import utcnow
from domain.statuses import OutboxStatus

MAX_ERROR_LENGTH = 1000
PENDING = OutboxStatus.PENDING.value
DEAD = OutboxStatus.DEAD.value


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    tenant_id: int
    channel: str
    topic: str
    payload: str
    attempts: int


@dataclass(frozen=True)
class Backlog:
    """Rows not delivered yet, and rows given up on (dead letters)."""

    pending: int
    dead: int


@dataclass(frozen=True)
class Claim:
    rows: tuple[ClaimedRow, ...]
    lease_until: datetime


class OutboxStore:
    """The SQL behind the dispatcher; every method is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def backlog(self) -> Backlog:
        """How many rows wait and how many are dead: one count over the (status,
        next_attempt_at) index, for /metrics."""
        statement = (
            select(Outbox.status, func.count())
            .where(Outbox.status.in_((PENDING, DEAD)))
            .group_by(Outbox.status)
        )
        async with self._engine.connect() as connection:
            counts = {status: count for status, count in await connection.execute(statement)}
        return Backlog(pending=counts.get(PENDING, 0), dead=counts.get(DEAD, 0))

    async def claim(self, *, limit: int, lease: timedelta) -> Claim:
        """Lease up to `limit` due pending rows, oldest (lowest id) first."""
        now = utcnow()
        lease_until = now + lease
        due = (
            select(Outbox.id)
            .where(
                Outbox.status == PENDING,
                or_(Outbox.next_attempt_at.is_(None), Outbox.next_attempt_at <= now),
            )
            .order_by(Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # rendered on PostgreSQL, omitted on SQLite
        )
        statement = (
            update(Outbox)
            .where(Outbox.id.in_(due))
            .values(next_attempt_at=lease_until)
            .returning(
                Outbox.id,
                Outbox.tenant_id,
                Outbox.channel,
                Outbox.topic,
                Outbox.payload,
                Outbox.attempts,
            )
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
            rows = [ClaimedRow(*row) for row in result.all()]
        # RETURNING promises no order.
        return Claim(rows=tuple(sorted(rows, key=lambda row: row.id)), lease_until=lease_until)

    async def mark_delivered(self, claim: Claim, row: ClaimedRow) -> bool:
        """False when the lease was lost; the row's newer claimant records it instead."""
        return await self._update_claimed(
            claim,
            [row.id],
            status=OutboxStatus.DELIVERED.value,
            delivered_at=utcnow(),
            next_attempt_at=None,
        )

    async def mark_failed(
        self, claim: Claim, row: ClaimedRow, error: str, *, retry_in: float | None
    ) -> bool:
        """Count the attempt; retry after `retry_in` seconds, or dead-letter when None."""
        if retry_in is None:
            status, next_attempt_at = OutboxStatus.DEAD.value, None
        else:
            status, next_attempt_at = PENDING, utcnow() + timedelta(seconds=retry_in)
        return await self._update_claimed(
            claim,
            [row.id],
            status=status,
            attempts=row.attempts + 1,
            last_error=error[:MAX_ERROR_LENGTH],
            next_attempt_at=next_attempt_at,
        )

    async def release(self, claim: Claim, rows: tuple[ClaimedRow, ...]) -> None:
        """Hand unsent rows back: due at once, for any dispatcher."""
        if rows:
            await self._update_claimed(claim, [row.id for row in rows], next_attempt_at=None)

    async def _update_claimed(self, claim: Claim, ids: list[int], **values: object) -> bool:
        statement = (
            update(Outbox)
            .where(
                Outbox.id.in_(ids),
                Outbox.status == PENDING,
                Outbox.next_attempt_at == claim.lease_until,
            )
            .values(**values)
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)
