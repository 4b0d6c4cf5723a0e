"""Payout attempts in the database: the unit of work's attempt records (one tenant, the
caller's transaction) and the reconcile job's claim across tenants (its own short
transaction, `FOR UPDATE SKIP LOCKED` on PostgreSQL so several instances share the work).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import models as m
from db.models.base import table_of
from domain import entities as e
from domain.access import ReadScope
from domain.errors import InvalidState
from domain.money import Money
from domain.outcomes import Actor
from domain.payouts import PayoutAttempt, PayoutRequest
from domain.statuses import PayoutAttemptStatus

ATTEMPT = table_of(m.PayoutAttempt)
PENDING = PayoutAttemptStatus.PENDING.value
FAILED = PayoutAttemptStatus.FAILED.value


def _attempt(row: Any) -> PayoutAttempt:
    return PayoutAttempt(
        id=row.id,
        tenant_id=row.tenant_id,
        payment_id=row.payment_id,
        request=PayoutRequest(
            payout_key=row.payout_key,
            amount=Money(row.amount, row.currency),
            destination=row.destination,
            reference=row.reference,
            description=row.description,
        ),
        actor=Actor(row.actor_id, row.actor_label),
        comments=row.comments,
        key_id=row.idempotency_key_id,
        status=PayoutAttemptStatus(row.status),
        payout_id=row.provider_payout_id,
        locked_until=row.locked_until,
        created_at=row.created_at,
    )


class PayoutAttemptRecords:
    """domain.writes.CommissionRecords' attempt methods, on the unit of work's connection
    and within its tenant."""

    _connection: AsyncConnection
    _scope: ReadScope

    def _mine(self, attempt_id: int) -> list[Any]:
        return [ATTEMPT.c.id == attempt_id, ATTEMPT.c.tenant_id == self._scope.tenant_id]

    async def open_attempt(self, payment_id: int) -> PayoutAttempt | None:
        row = (
            await self._connection.execute(
                select(ATTEMPT).where(
                    ATTEMPT.c.payment_id == payment_id,
                    ATTEMPT.c.tenant_id == self._scope.tenant_id,
                    ATTEMPT.c.status == PENDING,
                )
            )
        ).first()
        return None if row is None else _attempt(row)

    async def add_attempt(
        self,
        payment: e.Payment,
        request: PayoutRequest,
        actor: Actor,
        comments: str | None,
        key_id: int | None,
        *,
        locked_until: datetime,
        now: datetime,
    ) -> PayoutAttempt:
        asked = {
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "destination": request.destination,
            "reference": request.reference,
            "description": request.description,
            "actor_id": actor.user_id,
            "actor_label": actor.label[:200],
            "comments": comments,
            "idempotency_key_id": key_id,
            "status": PENDING,
            "provider_payout_id": None,
            "locked_until": locked_until,
            "resolved_at": None,
        }
        postgres = self._connection.dialect.name == "postgresql"
        dialect_insert = postgresql.insert if postgres else sqlite.insert
        # One attempt per payout key: one the provider refused (nothing paid) is asked
        # again under the same key, so it is reopened rather than added.
        statement = (
            dialect_insert(ATTEMPT)
            .values(
                tenant_id=payment.tenant_id,
                payment_id=payment.id,
                payout_key=request.payout_key,
                created_at=now,
                **asked,
            )
            .on_conflict_do_update(
                index_elements=["payout_key"], set_=asked, where=ATTEMPT.c.status == FAILED
            )
            .returning(*ATTEMPT.c)
        )
        row = (await self._connection.execute(statement)).first()
        if row is None:
            raise InvalidState(
                f"Payment {payment.id} already has an open or settled payout under "
                f"{request.payout_key}.",
                status=payment.status.value,
                reason="CONCURRENT_CHANGE",
            )
        return _attempt(row)

    async def hold_attempt(self, attempt: PayoutAttempt, until: datetime) -> bool:
        held = (
            ATTEMPT.c.locked_until.is_(None)
            if attempt.locked_until is None
            else ATTEMPT.c.locked_until == attempt.locked_until
        )
        result = await self._connection.execute(
            update(ATTEMPT)
            .where(*self._mine(attempt.id), ATTEMPT.c.status == PENDING, held)
            .values(locked_until=until)
        )
        return bool(result.rowcount == 1)

    async def release_attempt(self, attempt_id: int, until: datetime | None) -> None:
        await self._connection.execute(
            update(ATTEMPT)
            .where(*self._mine(attempt_id), ATTEMPT.c.status == PENDING)
            .values(locked_until=until)
        )

    async def resolve_attempt(
        self, attempt_id: int, status: PayoutAttemptStatus, payout_id: str | None, now: datetime
    ) -> bool:
        result = await self._connection.execute(
            update(ATTEMPT)
            .where(*self._mine(attempt_id), ATTEMPT.c.status == PENDING)
            .values(
                status=status.value,
                provider_payout_id=payout_id,
                locked_until=None,
                resolved_at=now,
            )
        )
        return bool(result.rowcount == 1)


class SqlPendingPayouts:
    """domain.writes.PendingPayouts: the reconcile job's claim, across tenants."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[PayoutAttempt]:
        due = (
            select(ATTEMPT.c.id)
            .where(
                ATTEMPT.c.status == PENDING,
                or_(ATTEMPT.c.locked_until.is_(None), ATTEMPT.c.locked_until <= now),
            )
            .order_by(ATTEMPT.c.created_at, ATTEMPT.c.id)
            .limit(limit)
        )
        if self._engine.dialect.name == "postgresql":
            # Another instance's claim skips these rows instead of waiting for them.
            due = due.with_for_update(skip_locked=True)
        async with self._engine.begin() as connection:
            ids = list((await connection.execute(due)).scalars())
            if not ids:
                return []
            rows = (
                await connection.execute(
                    update(ATTEMPT)
                    .where(ATTEMPT.c.id.in_(ids))
                    .values(locked_until=until)
                    .returning(*ATTEMPT.c)
                )
            ).all()
        return sorted((_attempt(row) for row in rows), key=lambda a: (a.created_at, a.id))
