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
from datetime import date, datetime
from enum import Enum
from types import TracebackType
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import models as m
from db import read_models as rm
from db.models.base import table_of
from db.payment_changes import ChangeAnnouncer
from db.payout_attempts import PayoutAttemptRecords
from db.scopes import visible
from domain import entities as e
from domain.access import ReadScope
from domain.commission import Action
from domain.errors import InvalidState
from domain.outcomes import Actor, DocumentChange, Outcome
from domain.payment_changes import PaymentChange
from domain.statuses import IdempotencyStatus, OutboxStatus, PaymentKind, PaymentStatus

PAYMENT = table_of(m.Payment)
DOCUMENT = table_of(m.PaymentDocument)
EVENT = table_of(m.PaymentEvent)
LEDGER = table_of(m.AccountingTransaction)
OUTBOX = table_of(m.Outbox)
INVOICE = table_of(m.Invoice)
FX = table_of(m.FxRate)
TENANT = table_of(m.Tenant)
KEYS = table_of(m.IdempotencyKey)


def _plain(values: Mapping[str, object]) -> dict[str, object]:
    """Enum members as their values: asyncpg binds exact types only."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}


def _grouped(changes: Sequence[DocumentChange]) -> dict[tuple[tuple[str, Any], ...], list[int]]:
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    for change in changes:
        groups[tuple(sorted(_plain(change.values).items()))].append(change.document_id)
    return groups


class _Records:
    """Lookups every unit of work's records share, on its one connection."""

    def __init__(
        self,
        connection: AsyncConnection,
        scope: ReadScope,
        *,
        row_locks: bool,
        changes: list[PaymentChange],
    ) -> None:
        self._connection = connection
        self._scope = scope
        self._row_locks = row_locks
        # Every payment this unit of work changed, announced as it commits.
        self._changes = changes

    async def _one(self, model: rm.ReadModel, *conditions: Any, lock: bool = False) -> Any:
        statement = select(*model.columns).where(*conditions)
        if lock and self._row_locks:
            statement = statement.with_for_update()
        row = (await self._connection.execute(statement)).first()
        return None if row is None else model.build(row)

    def _in_tenant(self, model: rm.ReadModel, row_id: int) -> list[Any]:
        table = model.table
        return [table.c.id == row_id, table.c.tenant_id == self._scope.tenant_id]

    async def payment_for_update(self, payment_id: int) -> e.Payment | None:
        found: e.Payment | None = await self._one(
            rm.PAYMENT, PAYMENT.c.id == payment_id, visible(PAYMENT, self._scope), lock=True
        )
        return found

    async def user(self, user_id: int) -> e.User | None:
        found: e.User | None = await self._one(rm.USER, *self._in_tenant(rm.USER, user_id))
        return found

    async def apply(
        self, payment: e.Payment, outcome: Outcome, actor: Actor, now: datetime
    ) -> e.Payment:
        applied = await apply_outcome(self._connection, payment, outcome, actor, now)
        self._changed(applied, outcome)
        return applied

    def _changed(self, payment: e.Payment, outcome: Outcome) -> None:
        self._changes.append(PaymentChange(payment.tenant_id, payment.id, outcome.action.value))


class SqlCommissionRecords(_Records, PayoutAttemptRecords):
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
        found: e.Partner | None = await self._one(
            rm.PARTNER, *self._in_tenant(rm.PARTNER, partner_id)
        )
        return found

    async def declined_payouts(self, payment_id: int) -> int:
        statement = select(func.count()).where(
            EVENT.c.payment_id == payment_id,
            EVENT.c.action == Action.PAYOUT_DECLINED.value,
        )
        return int((await self._connection.execute(statement)).scalar_one())


class SqlPaymentRecords(_Records):
    """Reseller completion and invoice payment writes."""

    async def reseller_payment_for_update(
        self, reseller_id: int, document_number: str
    ) -> e.Payment | None:
        found: e.Payment | None = await self._one(
            rm.PAYMENT,
            PAYMENT.c.tenant_id == self._scope.tenant_id,
            PAYMENT.c.document_number == document_number,
            PAYMENT.c.partner_id == reseller_id,
            PAYMENT.c.kind == PaymentKind.RESELLER.value,
            visible(PAYMENT, self._scope),
            lock=True,
        )
        return found

    async def invoice_for_update(self, invoice_id: int) -> e.Invoice | None:
        found: e.Invoice | None = await self._one(
            rm.INVOICE, *self._in_tenant(rm.INVOICE, invoice_id), lock=True
        )
        return found

    async def payment_method(self, method_id: int) -> e.PaymentMethod | None:
        found: e.PaymentMethod | None = await self._one(
            rm.PAYMENT_METHOD, *self._in_tenant(rm.PAYMENT_METHOD, method_id)
        )
        return found

    async def address(self, address_id: int) -> e.Address | None:
        found: e.Address | None = await self._one(
            rm.ADDRESS, *self._in_tenant(rm.ADDRESS, address_id)
        )
        return found

    async def fx_rate(self, source: str, target: str, on: date) -> e.FxRate | None:
        direct = and_(FX.c.base_currency == source, FX.c.quote_currency == target)
        inverse = and_(FX.c.base_currency == target, FX.c.quote_currency == source)
        statement = (
            select(*rm.FX_RATE.columns)
            .where(FX.c.tenant_id == self._scope.tenant_id, or_(direct, inverse))
            .where(FX.c.effective_on <= on)
            .order_by(FX.c.effective_on.desc(), case((direct, 0), else_=1), FX.c.id.desc())
            .limit(1)
        )
        row = (await self._connection.execute(statement)).first()
        return None if row is None else rm.FX_RATE.build(row)  # type: ignore[no-any-return]

    async def base_currency(self) -> str:
        statement = select(TENANT.c.base_currency).where(TENANT.c.id == self._scope.tenant_id)
        return str((await self._connection.execute(statement)).scalar_one())

    async def create(
        self, values: Mapping[str, object], outcome: Outcome, actor: Actor, now: datetime
    ) -> e.Payment:
        row = (
            await self._connection.execute(
                insert(PAYMENT).values(**_plain(values)).returning(*rm.PAYMENT.columns)
            )
        ).one()
        payment: e.Payment = rm.PAYMENT.build(row)
        await write_records(self._connection, payment, outcome, actor, now)
        self._changed(payment, outcome)
        return payment

    async def live_total(self, invoice_id: int) -> int:
        statement = select(func.coalesce(func.sum(PAYMENT.c.amount), 0)).where(
            PAYMENT.c.tenant_id == self._scope.tenant_id,
            PAYMENT.c.invoice_id == invoice_id,
            PAYMENT.c.kind == PaymentKind.INVOICE.value,
            PAYMENT.c.status != PaymentStatus.DELETED.value,
        )
        return int((await self._connection.execute(statement)).scalar_one())

    async def update_invoice(
        self, invoice: e.Invoice, changes: Mapping[str, object], now: datetime
    ) -> e.Invoice:
        row = (
            await self._connection.execute(
                update(INVOICE)
                .where(INVOICE.c.id == invoice.id, INVOICE.c.tenant_id == invoice.tenant_id)
                .values(**_plain(changes), updated_at=now)
                .returning(*rm.INVOICE.columns)
            )
        ).one()
        updated: e.Invoice = rm.INVOICE.build(row)
        return updated


class SqlDuePayments:
    """Reseller payments past their expiration date, across tenants (the expiry job)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def due_expirations(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        statement = (
            select(PAYMENT.c.tenant_id, PAYMENT.c.id)
            .where(
                PAYMENT.c.kind == PaymentKind.RESELLER.value,
                PAYMENT.c.status == PaymentStatus.WAITING_FOR_PAYMENT.value,
                PAYMENT.c.expiration_date <= now,
            )
            .order_by(PAYMENT.c.expiration_date, PAYMENT.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [(row.tenant_id, row.id) for row in rows]


async def apply_outcome(
    connection: AsyncConnection, payment: e.Payment, outcome: Outcome, actor: Actor, now: datetime
) -> e.Payment:
    """Claim the payment with a conditional update on the status and version it was read
    with, then write the outcome's documents, event, postings and outbox rows."""
    claimed = (
        await connection.execute(
            update(PAYMENT)
            .where(
                PAYMENT.c.id == payment.id,
                PAYMENT.c.tenant_id == payment.tenant_id,
                PAYMENT.c.status == payment.status.value,
                PAYMENT.c.version == payment.version,
            )
            .values(**_plain(outcome.payment_changes), version=payment.version + 1, updated_at=now)
            .returning(*rm.PAYMENT.columns)
        )
    ).first()
    if claimed is None:
        await _lost_race(connection, payment)
    result: e.Payment = rm.PAYMENT.build(claimed)
    for values, document_ids in _grouped(outcome.document_changes).items():
        # One statement per distinct change: resetting every reviewed document of a
        # payment costs one UPDATE however many there are.
        await connection.execute(
            update(DOCUMENT)
            .where(DOCUMENT.c.id.in_(document_ids), DOCUMENT.c.payment_id == payment.id)
            .values(**dict(values), updated_at=now)
        )
    if (new := outcome.new_document) is not None:
        stored = new.stored
        await connection.execute(
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
    await write_records(connection, result, outcome, actor, now)
    return result


async def write_records(
    connection: AsyncConnection, payment: e.Payment, outcome: Outcome, actor: Actor, now: datetime
) -> None:
    """The outcome's audit event, ledger lines (one posting id per posting) and outbox
    rows for `payment` as it now is."""
    execute = connection.execute
    await execute(
        insert(EVENT).values(
            tenant_id=payment.tenant_id,
            payment_id=payment.id,
            actor_id=actor.user_id,
            actor_label=actor.label[:200],
            action=outcome.action.value,
            from_status=outcome.from_status.value if outcome.from_status else None,
            to_status=outcome.to_status.value,
            comments=outcome.comments,
            created_at=now,
        )
    )
    lines = [
        {
            "tenant_id": payment.tenant_id,
            "payment_id": payment.id,
            "invoice_id": payment.invoice_id,
            "posting_id": posting_id,
            "account_code": line.account_code,
            "direction": line.direction.value,
            "amount": line.money.amount,
            "currency": line.money.currency,
            "description": posting.description,
            "created_at": now,
        }
        for posting in outcome.postings
        for posting_id in [str(uuid.uuid4())]
        for line in posting.lines
    ]
    if lines:
        await execute(insert(LEDGER), lines)
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


async def _lost_race(connection: AsyncConnection, payment: e.Payment) -> None:
    now_status = (
        await connection.execute(select(PAYMENT.c.status).where(PAYMENT.c.id == payment.id))
    ).scalar_one_or_none()
    raise InvalidState(
        f"Payment {payment.id} changed while this request ran; it is now {now_status}.",
        status=str(now_status),
        reason="CONCURRENT_CHANGE",
    )


class SqlUnitOfWork:
    """One transaction on its own connection; rolled back unless committed. The payments
    it changed are announced (db.payment_changes) as it commits."""

    def __init__(
        self, engine: AsyncEngine, scope: ReadScope, announcer: ChangeAnnouncer | None = None
    ) -> None:
        self._engine = engine
        self._scope = scope
        self._announcer = announcer
        self._changes: list[PaymentChange] = []
        self._connection: AsyncConnection | None = None
        self._committed = False

    async def __aenter__(self) -> SqlUnitOfWork:
        self._connection = await self._engine.connect()
        await self._connection.begin()
        row_locks = self._engine.dialect.name == "postgresql"
        connection, scope, changes = self._connection, self._scope, self._changes
        self.commission = SqlCommissionRecords(
            connection, scope, row_locks=row_locks, changes=changes
        )
        self.payments = SqlPaymentRecords(connection, scope, row_locks=row_locks, changes=changes)
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

    async def forget_key(self, key_id: int) -> None:
        assert self._connection is not None
        await self._connection.execute(
            delete(KEYS).where(
                KEYS.c.id == key_id, KEYS.c.status == IdempotencyStatus.IN_FLIGHT.value
            )
        )

    async def commit(self) -> None:
        assert self._connection is not None
        changes, announcer = list(self._changes), self._announcer
        if announcer is not None and changes:
            await announcer.in_transaction(self._connection, changes)
        await self._connection.commit()
        self._committed = True
        self._changes.clear()
        if announcer is not None and changes:
            await announcer.committed(changes)
