"""The write side: one database transaction per unit of work, with the records a
commission transition reads and writes.

A transition claims its payment twice over: on PostgreSQL the row is read with
`SELECT ... FOR UPDATE`, and on both backends the write is a conditional
`UPDATE ... WHERE status = :read AND version = :read` that must hit one row. SQLAlchemy
emits no lock on SQLite, so its write engine begins every transaction with
`BEGIN IMMEDIATE` (db.engine.write_engine): writers queue on the database lock and what
a transaction read stays true until it commits.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from types import TracebackType
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import models as m
from db import read_models as rm
from db.models.base import table_of
from db.scopes import visible
from domain import entities as e
from domain.access import ReadScope
from domain.commission import Action
from domain.commission_moves import Actor, DocumentChange, Outcome
from domain.errors import InvalidState
from domain.statuses import IdempotencyStatus, OutboxStatus

PAYMENT = table_of(m.Payment)
DOCUMENT = table_of(m.PaymentDocument)
EVENT = table_of(m.PaymentEvent)
LEDGER = table_of(m.AccountingTransaction)
OUTBOX = table_of(m.Outbox)
KEYS = table_of(m.IdempotencyKey)


def _plain(values: Mapping[str, object]) -> dict[str, object]:
    """Enum members as their values: asyncpg binds exact types only."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}


def _grouped(changes: Sequence[DocumentChange]) -> dict[tuple[tuple[str, Any], ...], list[int]]:
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    for change in changes:
        groups[tuple(sorted(_plain(change.values).items()))].append(change.document_id)
    return groups


class SqlCommissionRecords:
    def __init__(self, connection: AsyncConnection, scope: ReadScope, *, row_locks: bool) -> None:
        self._connection = connection
        self._scope = scope
        self._row_locks = row_locks

    async def _one(self, model: rm.ReadModel, *conditions: Any, lock: bool = False) -> Any:
        statement = select(*model.columns).where(*conditions)
        if lock and self._row_locks:
            statement = statement.with_for_update()
        row = (await self._connection.execute(statement)).first()
        return None if row is None else model.build(row)

    async def payment_for_update(self, payment_id: int) -> e.Payment | None:
        found: e.Payment | None = await self._one(
            rm.PAYMENT, PAYMENT.c.id == payment_id, visible(PAYMENT, self._scope), lock=True
        )
        return found

    async def documents(self, payment_id: int) -> list[e.PaymentDocument]:
        statement = (
            select(*rm.PAYMENT_DOCUMENT.columns)
            .where(
                DOCUMENT.c.payment_id == payment_id, DOCUMENT.c.tenant_id == self._scope.tenant_id
            )
            .order_by(DOCUMENT.c.id)
        )
        rows = (await self._connection.execute(statement)).all()
        return [rm.PAYMENT_DOCUMENT.build(row) for row in rows]

    async def partner(self, partner_id: int) -> e.Partner | None:
        table = rm.PARTNER.table
        found: e.Partner | None = await self._one(
            rm.PARTNER, table.c.id == partner_id, table.c.tenant_id == self._scope.tenant_id
        )
        return found

    async def declined_payouts(self, payment_id: int) -> int:
        statement = select(func.count()).where(
            EVENT.c.payment_id == payment_id,
            EVENT.c.action == Action.PAYOUT_DECLINED.value,
        )
        return int((await self._connection.execute(statement)).scalar_one())

    async def user(self, user_id: int) -> e.User | None:
        table = rm.USER.table
        found: e.User | None = await self._one(
            rm.USER, table.c.id == user_id, table.c.tenant_id == self._scope.tenant_id
        )
        return found

    async def apply(
        self, payment: e.Payment, outcome: Outcome, actor: Actor, now: datetime
    ) -> e.Payment:
        execute = self._connection.execute
        claimed = (
            await execute(
                update(PAYMENT)
                .where(
                    PAYMENT.c.id == payment.id,
                    PAYMENT.c.tenant_id == payment.tenant_id,
                    PAYMENT.c.status == payment.status.value,
                    PAYMENT.c.version == payment.version,
                )
                .values(
                    **_plain(outcome.payment_changes), version=payment.version + 1, updated_at=now
                )
                .returning(*rm.PAYMENT.columns)
            )
        ).first()
        if claimed is None:
            await self._lost_race(payment)
        for values, document_ids in _grouped(outcome.document_changes).items():
            # One statement per distinct change: resetting every reviewed document of a
            # payment costs one UPDATE however many there are.
            await execute(
                update(DOCUMENT)
                .where(DOCUMENT.c.id.in_(document_ids), DOCUMENT.c.payment_id == payment.id)
                .values(**dict(values), updated_at=now)
            )
        if (new := outcome.new_document) is not None:
            stored = new.stored
            await execute(
                insert(DOCUMENT).values(
                    tenant_id=payment.tenant_id,
                    payment_id=payment.id,
                    document_type=new.document_type,
                    required=new.required,
                    file_name=stored.file_name,
                    content_type=stored.content_type,
                    size_bytes=stored.size_bytes,
                    sha256=stored.sha256,
                    storage_key=stored.storage_key,
                    created_at=now,
                    updated_at=now,
                )
            )
        await execute(
            insert(EVENT).values(
                tenant_id=payment.tenant_id,
                payment_id=payment.id,
                actor_id=actor.user_id,
                actor_label=actor.label[:200],
                action=outcome.action.value,
                from_status=outcome.from_status.value,
                to_status=outcome.to_status.value,
                comments=outcome.comments,
                created_at=now,
            )
        )
        if outcome.posting is not None:
            posting_id = str(uuid.uuid4())
            await execute(
                insert(LEDGER),
                [
                    {
                        "tenant_id": payment.tenant_id,
                        "payment_id": payment.id,
                        "invoice_id": payment.invoice_id,
                        "posting_id": posting_id,
                        "account_code": line.account_code,
                        "direction": line.direction.value,
                        "amount": line.money.amount,
                        "currency": line.money.currency,
                        "description": outcome.posting.description,
                        "created_at": now,
                    }
                    for line in outcome.posting.lines
                ],
            )
        if outcome.notifications:
            await execute(
                insert(OUTBOX),
                [
                    {
                        "tenant_id": payment.tenant_id,
                        "payment_id": payment.id,
                        "channel": note.channel.value,
                        "topic": note.topic,
                        "payload": json.dumps(note.payload, ensure_ascii=False),
                        "status": OutboxStatus.PENDING.value,
                        "attempts": 0,
                        "created_at": now,
                    }
                    for note in outcome.notifications
                ],
            )
        result: e.Payment = rm.PAYMENT.build(claimed)
        return result

    async def _lost_race(self, payment: e.Payment) -> None:
        now_status = (
            await self._connection.execute(
                select(PAYMENT.c.status).where(PAYMENT.c.id == payment.id)
            )
        ).scalar_one_or_none()
        raise InvalidState(
            f"Payment {payment.id} changed while this request ran; it is now {now_status}.",
            status=str(now_status),
            reason="CONCURRENT_CHANGE",
        )


class SqlUnitOfWork:
    """One transaction on its own connection; rolled back unless committed."""

    def __init__(self, engine: AsyncEngine, scope: ReadScope) -> None:
        self._engine = engine
        self._scope = scope
        self._connection: AsyncConnection | None = None
        self._committed = False

    async def __aenter__(self) -> SqlUnitOfWork:
        self._connection = await self._engine.connect()
        await self._connection.begin()
        row_locks = self._engine.dialect.name == "postgresql"
        self.commission = SqlCommissionRecords(self._connection, self._scope, row_locks=row_locks)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if not self._committed:
                await self._connection.rollback()
        except Exception:
            if error is None:
                raise
            # The connection died with the transaction: the first error is the story.
        finally:
            await self._connection.close()

    async def complete_key(self, key_id: int, response: str) -> None:
        assert self._connection is not None
        await self._connection.execute(
            update(KEYS)
            .where(KEYS.c.id == key_id)
            .values(status=IdempotencyStatus.COMPLETED.value, response=response, locked_until=None)
        )

    async def commit(self) -> None:
        assert self._connection is not None
        await self._connection.commit()
        self._committed = True
