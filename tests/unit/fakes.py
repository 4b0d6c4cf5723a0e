"""In-memory fakes of the write side's ports (domain.writes, domain.payouts,
domain.storage) and factories for the entities they hold.

`FakeDatabase` is the committed state. A `FakeUnitOfWork` reads it, applies outcomes to
its own copies and publishes them only on commit, as one transaction would; claims and
releases of idempotency keys commit on their own, completions ride in the unit of work.
Failures can be queued on any step, so a test can make the write side or the payout
provider break at the moment it cares about.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import TracebackType

from domain import entities as e
from domain import notifications as n
from domain.access import ReadScope
from domain.commission import Action
from domain.errors import InvalidState, PayoutDeclined, PayoutRefused
from domain.idempotency import KeyClaim, KeyRequest, StoredKey, Verdict, verdict
from domain.ledger import LedgerLine
from domain.money import Money
from domain.outcomes import Actor, Outcome
from domain.payouts import PayoutAttempt, PayoutReceipt, PayoutRequest, payout_key
from domain.permissions import (
    MARK_PARTNER_PAYMENTS_PAID,
    PAY_PARTNERS_PAYMENTS,
    REQUEST_PARTNER_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
)
from domain.principal import Credential, Principal
from domain.statuses import (
    DocumentStatus,
    IdempotencyStatus,
    PartnerKind,
    PaymentKind,
    PaymentStatus,
    PayoutAttemptStatus,
    UserRole,
)
from domain.storage import Readable, StoredFile, content_key
from domain.writes import CommissionRecords

# --- entities ---------------------------------------------------------------------------

TENANT_ID = 1
T0 = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)

STAFF_PERMISSIONS = frozenset(
    {VIEW_PARTNER_PAYMENTS, PAY_PARTNERS_PAYMENTS, MARK_PARTNER_PAYMENTS_PAID}
)

PAYMENT = e.Payment(
    id=1,
    tenant_id=TENANT_ID,
    kind=PaymentKind.COMMISSION,
    status=PaymentStatus.GENERATED,
    amount=123_456,
    currency="MXN",
    paid_amount=None,
    settleable_amount=None,
    discount_amount=None,
    original_amount=None,
    original_currency=None,
    fx_rate_id=None,
    fx_rate_from_base_id=None,
    partner_id=10,
    merchant_id=None,
    terminal_id=None,
    company_id=None,
    user_id=20,
    account_id=None,
    invoice_id=None,
    sender_id=None,
    receiver_id=None,
    payment_method_id=None,
    authorized=False,
    authorized_by_id=None,
    authorized_at=None,
    manager_id=None,
    document_number=None,
    reference="COM-202510-0001",
    tracking_id=None,
    description=None,
    comments=None,
    period_start=date(2025, 10, 1),
    period_end=date(2025, 10, 31),
    cutoff_date=date(2025, 11, 5),
    payment_date=None,
    approved_for_payment_at=None,
    paid_at=None,
    sent_at=None,
    received_at=None,
    closed_at=None,
    expiration_date=None,
    requester_ip=None,
    deleted_at=None,
    version=1,
    created_at=T0 - timedelta(days=10),
    updated_at=T0 - timedelta(days=10),
)

DOCUMENT = e.PaymentDocument(
    id=100,
    tenant_id=TENANT_ID,
    payment_id=PAYMENT.id,
    document_type="invoice",
    status=DocumentStatus.PENDING,
    required=True,
    rejection_reason=None,
    reviewed_by_id=None,
    reviewed_at=None,
    file_name="invoice.pdf",
    content_type="application/pdf",
    size_bytes=1024,
    sha256="ab" * 32,
    storage_key=f"{TENANT_ID}/ab/{'ab' * 32}",
    created_at=T0 - timedelta(days=5),
    updated_at=T0 - timedelta(days=5),
)

PARTNER = e.Partner(
    id=PAYMENT.partner_id or 10,
    tenant_id=TENANT_ID,
    parent_id=None,
    name="Acme Logistics",
    kind=PartnerKind.ISV,
    external_ref="prt_acme",
    payout_account="po_1234567890",
    created_at=T0 - timedelta(days=400),
)

PARTNER_USER = e.User(
    id=PAYMENT.user_id or 20,
    tenant_id=TENANT_ID,
    name="Lucía Pérez",
    email="lucia@acme.example",
    role=UserRole.PARTNER,
    partner_id=PARTNER.id,
    company_id=None,
    locale="es-MX",
    created_at=T0 - timedelta(days=400),
)

ADMIN_USER = replace(
    PARTNER_USER,
    id=30,
    name="Ada Admin",
    email="ada@paygraph.example",
    role=UserRole.ADMIN,
    partner_id=None,
    locale="en",
)


def payment(**changes: object) -> e.Payment:
    return replace(PAYMENT, **changes)  # type: ignore[arg-type]


def document(**changes: object) -> e.PaymentDocument:
    return replace(DOCUMENT, **changes)  # type: ignore[arg-type]


def unuploaded(**changes: object) -> e.PaymentDocument:
    """A required document the partner has not uploaded yet."""
    empty = {
        "file_name": None,
        "content_type": None,
        "size_bytes": None,
        "sha256": None,
        "storage_key": None,
    }
    return document(**{**empty, **changes})


def partner(**changes: object) -> e.Partner:
    return replace(PARTNER, **changes)  # type: ignore[arg-type]


def user(**changes: object) -> e.User:
    return replace(PARTNER_USER, **changes)  # type: ignore[arg-type]


def stored_file(data: bytes = b"%PDF-1.4 invoice", **changes: object) -> StoredFile:
    key, digest = content_key(TENANT_ID, data)
    file = StoredFile(key, digest, len(data), "application/pdf", "invoice.pdf")
    return replace(file, **changes)  # type: ignore[arg-type]


# --- principals -------------------------------------------------------------------------


def admin(*permissions: str, user_id: int = ADMIN_USER.id, tenant_id: int = TENANT_ID) -> Principal:
    """Tenant staff; with no permissions named, the three of document 000."""
    granted = frozenset(permissions) if permissions else STAFF_PERMISSIONS
    return Principal(tenant_id, user_id, Credential.JWT, granted)


def partner_user(
    *permissions: str, partner_id: int = PARTNER.id, user_id: int = PARTNER_USER.id
) -> Principal:
    granted = frozenset(permissions) if permissions else frozenset({REQUEST_PARTNER_PAYMENTS})
    return Principal(TENANT_ID, user_id, Credential.JWT, granted, partner_id=partner_id)


def reseller_manager(*permissions: str, tree: frozenset[int] | None = None) -> Principal:
    return Principal(
        TENANT_ID,
        None,
        Credential.API_TOKEN,
        frozenset(permissions),
        reseller_id=PARTNER.id,
        reseller_tree=tree if tree is not None else frozenset({PARTNER.id}),
    )


# --- the database -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    tenant_id: int
    payment_id: int
    notification: n.Notification
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KeyRow:
    tenant_id: int
    key: str
    operation: str
    stored: StoredKey


@dataclass
class FakeDatabase:
    """The committed rows. Tests read these to see what a transaction published."""

    payments: dict[int, e.Payment] = field(default_factory=dict)
    documents: dict[int, e.PaymentDocument] = field(default_factory=dict)
    partners: dict[int, e.Partner] = field(default_factory=dict)
    users: dict[int, e.User] = field(default_factory=dict)
    events: list[e.PaymentEvent] = field(default_factory=list)
    ledger: list[e.AccountingTransaction] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    keys: dict[int, KeyRow] = field(default_factory=dict)
    attempts: dict[int, PayoutAttempt] = field(default_factory=dict)
    scopes: list[ReadScope] = field(default_factory=list)  # every unit of work opened
    commits: int = 0
    rollbacks: int = 0
    open_units: int = 0  # units of work (transactions) open right now
    # step name -> queue of (the action it waits for, or None for any; the error)
    _failures: dict[str, list[tuple[Action | None, BaseException]]] = field(default_factory=dict)
    # Runs inside `apply` before the claim: lets a test commit a rival transition.
    before_apply: Callable[[], Awaitable[None]] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, *rows: e.Payment | e.PaymentDocument | e.Partner | e.User) -> None:
        for row in rows:
            if isinstance(row, e.Payment):
                self.payments[row.id] = row
            elif isinstance(row, e.PaymentDocument):
                self.documents[row.id] = row
            elif isinstance(row, e.Partner):
                self.partners[row.id] = row
            else:
                self.users[row.id] = row

    def fail(self, step: str, error: BaseException, *, action: Action | None = None) -> None:
        """Make the next `step` ("apply", "complete_key", "commit") raise `error`, once;
        with `action`, only in a transaction that applies that action."""
        self._failures.setdefault(step, []).append((action, error))

    def clear_failures(self) -> None:
        self._failures.clear()

    def take_failure(self, step: str, actions: list[Action]) -> BaseException | None:
        queue = self._failures.get(step, [])
        for index, (action, error) in enumerate(queue):
            if action is None or action in actions:
                del queue[index]
                return error
        return None

    def payment_documents(self, payment_id: int) -> list[e.PaymentDocument]:
        return sorted(
            (d for d in self.documents.values() if d.payment_id == payment_id),
            key=lambda d: d.id,
        )

    def events_of(self, payment_id: int) -> list[e.PaymentEvent]:
        return [event for event in self.events if event.payment_id == payment_id]

    def ledger_of(self, payment_id: int) -> list[e.AccountingTransaction]:
        return [line for line in self.ledger if line.payment_id == payment_id]

    def outbox_of(self, payment_id: int) -> list[n.Notification]:
        return [row.notification for row in self.outbox if row.payment_id == payment_id]

    def ledger_lines(self) -> list[LedgerLine]:
        return [
            LedgerLine(row.account_code, row.direction, Money(row.amount, row.currency))
            for row in self.ledger
        ]

    def snapshot(self) -> tuple[object, ...]:
        """Everything a transaction or a key claim can change, to compare before/after."""
        return (
            dict(self.payments),
            dict(self.documents),
            list(self.events),
            list(self.ledger),
            list(self.outbox),
            dict(self.attempts),
            {row.key: row.stored for row in self.keys.values()},
        )

    def pending_attempts(self, payment_id: int) -> list[PayoutAttempt]:
        return [
            a
            for a in self.attempts.values()
            if a.payment_id == payment_id and a.status is PayoutAttemptStatus.PENDING
        ]

    def units(self, scope: ReadScope) -> FakeUnitOfWork:
        """The UnitOfWorkFactory to hand to the workflow."""
        return FakeUnitOfWork(self, scope)


class FakeCommissionRecords:
    """domain.writes.CommissionRecords over the unit of work's copies."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    async def payment_for_update(self, payment_id: int) -> e.Payment | None:
        found = self._uow.payments.get(payment_id)
        if found is None or not _visible(found, self._uow.scope):
            return None
        return found

    async def documents(self, payment_id: int) -> list[e.PaymentDocument]:
        tenant = self._uow.scope.tenant_id
        return sorted(
            (
                d
                for d in self._uow.documents.values()
                if d.payment_id == payment_id and d.tenant_id == tenant
            ),
            key=lambda d: d.id,
        )

    async def partner(self, partner_id: int) -> e.Partner | None:
        found = self._uow.db.partners.get(partner_id)
        return found if found and found.tenant_id == self._uow.scope.tenant_id else None

    async def declined_payouts(self, payment_id: int) -> int:
        return sum(
            1
            for event in self._uow.db.events_of(payment_id)
            if event.action == Action.PAYOUT_DECLINED
        )

    async def user(self, user_id: int) -> e.User | None:
        found = self._uow.db.users.get(user_id)
        return found if found and found.tenant_id == self._uow.scope.tenant_id else None

    async def open_attempt(self, payment_id: int) -> PayoutAttempt | None:
        return next(
            (
                a
                for a in self._uow.attempts.values()
                if a.payment_id == payment_id
                and a.tenant_id == self._uow.scope.tenant_id
                and a.status is PayoutAttemptStatus.PENDING
            ),
            None,
        )

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
        uow = self._uow
        # The unique payout key: an attempt the provider refused is reopened.
        same_key = [a for a in uow.attempts.values() if a.request.payout_key == request.payout_key]
        if any(a.status is not PayoutAttemptStatus.FAILED for a in same_key):
            raise RuntimeError(f"duplicate payout key {request.payout_key}")
        attempt = PayoutAttempt(
            id=same_key[0].id if same_key else uow.db.next_id(),
            tenant_id=payment.tenant_id,
            payment_id=payment.id,
            request=request,
            actor=actor,
            comments=comments,
            key_id=key_id,
            status=PayoutAttemptStatus.PENDING,
            payout_id=None,
            locked_until=locked_until,
            created_at=now,
        )
        uow.write_attempt(attempt)
        return attempt

    def _pending(self, attempt_id: int) -> PayoutAttempt | None:
        found = self._uow.attempts.get(attempt_id)
        if found is None or found.tenant_id != self._uow.scope.tenant_id:
            return None
        return found if found.status is PayoutAttemptStatus.PENDING else None

    async def hold_attempt(self, attempt: PayoutAttempt, until: datetime) -> bool:
        found = self._pending(attempt.id)
        if found is None or found.locked_until != attempt.locked_until:
            return False
        self._uow.write_attempt(replace(found, locked_until=until))
        return True

    async def release_attempt(self, attempt_id: int, until: datetime | None) -> None:
        if (found := self._pending(attempt_id)) is not None:
            self._uow.write_attempt(replace(found, locked_until=until))

    async def resolve_attempt(
        self, attempt_id: int, status: PayoutAttemptStatus, payout_id: str | None, now: datetime
    ) -> bool:
        found = self._pending(attempt_id)
        if found is None:
            return False
        resolved = replace(found, status=status, payout_id=payout_id, locked_until=None)
        self._uow.write_attempt(resolved)
        return True

    async def apply(
        self, payment: e.Payment, outcome: Outcome, actor: Actor, now: datetime
    ) -> e.Payment:
        uow, db = self._uow, self._uow.db
        uow.actions.append(outcome.action)
        if db.before_apply is not None:
            rival, db.before_apply = db.before_apply, None
            await rival()
        if (error := db.take_failure("apply", uow.actions)) is not None:
            raise error
        # The conditional update: the row as the database holds it now (this
        # transaction's own writes included) must still have the status and version the
        # caller read.
        current = uow.payments.get(payment.id)
        committed = db.payments.get(payment.id)
        if payment.id not in uow.base_versions and committed is not None:
            current = committed
        if (
            current is None
            or current.tenant_id != payment.tenant_id
            or current.status is not payment.status
            or current.version != payment.version
        ):
            now_status = current.status.value if current else None
            raise InvalidState(
                f"Payment {payment.id} changed while this request ran; it is now {now_status}.",
                status=str(now_status),
                reason="CONCURRENT_CHANGE",
            )
        claimed = replace(
            current,
            **outcome.payment_changes,  # type: ignore[arg-type]
            version=payment.version + 1,
            updated_at=now,
        )
        uow.payments[payment.id] = claimed
        uow.base_versions.setdefault(payment.id, payment.version)
        for change in outcome.document_changes:
            existing = uow.documents.get(change.document_id)
            if existing is None or existing.payment_id != payment.id:
                raise LookupError(f"document {change.document_id} is not payment {payment.id}'s")
            uow.documents[change.document_id] = replace(
                existing,
                **change.values,  # type: ignore[arg-type]
                updated_at=now,
            )
            uow.written_documents.add(change.document_id)
        if (new := outcome.new_document) is not None:
            stored = new.stored
            document_id = db.next_id()
            uow.documents[document_id] = e.PaymentDocument(
                id=document_id,
                tenant_id=payment.tenant_id,
                payment_id=payment.id,
                document_type=new.document_type,
                status=DocumentStatus.PENDING,
                required=new.required,
                rejection_reason=None,
                reviewed_by_id=None,
                reviewed_at=None,
                file_name=stored.file_name,
                content_type=stored.content_type,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                storage_key=stored.storage_key,
                created_at=now,
                updated_at=now,
            )
            uow.written_documents.add(document_id)
        uow.events.append(
            e.PaymentEvent(
                id=db.next_id(),
                tenant_id=payment.tenant_id,
                payment_id=payment.id,
                actor_id=actor.user_id,
                actor_label=actor.label[:200],
                action=outcome.action.value,
                from_status=outcome.from_status,
                to_status=outcome.to_status,
                comments=outcome.comments,
                created_at=now,
            )
        )
        if outcome.posting is not None:
            posting_id = f"posting-{db.next_id()}"
            uow.ledger.extend(
                e.AccountingTransaction(
                    id=db.next_id(),
                    tenant_id=payment.tenant_id,
                    payment_id=payment.id,
                    invoice_id=payment.invoice_id,
                    posting_id=posting_id,
                    account_code=line.account_code,
                    direction=line.direction,
                    amount=line.money.amount,
                    currency=line.money.currency,
                    description=outcome.posting.description,
                    created_at=now,
                )
                for line in outcome.posting.lines
            )
        uow.outbox.extend(
            OutboxRow(db.next_id(), payment.tenant_id, payment.id, note, now)
            for note in outcome.notifications
        )
        return claimed


def _visible(found: e.Payment, scope: ReadScope) -> bool:
    """db.scopes.visible for payments: the tenant, the partner scope, the kinds."""
    if found.tenant_id != scope.tenant_id:
        return False
    if scope.partner_ids is not None and found.partner_id not in scope.partner_ids:
        return False
    return scope.payment_kinds is None or found.kind in scope.payment_kinds


class FakeUnitOfWork:
    """domain.writes.UnitOfWork: copies of the committed rows, published on commit."""

    commission: CommissionRecords

    def __init__(self, db: FakeDatabase, scope: ReadScope) -> None:
        self.db = db
        self.scope = scope
        self.payments: dict[int, e.Payment] = {}
        self.documents: dict[int, e.PaymentDocument] = {}
        self.events: list[e.PaymentEvent] = []
        self.ledger: list[e.AccountingTransaction] = []
        self.outbox: list[OutboxRow] = []
        self.completed_keys: dict[int, str] = {}
        self.forgotten_keys: set[int] = set()
        self.attempts: dict[int, PayoutAttempt] = {}
        # attempt id -> the attempt as this transaction read it (None: new)
        self.attempts_read: dict[int, PayoutAttempt | None] = {}
        # payment id -> the version its claim was based on
        self.base_versions: dict[int, int] = {}
        self.written_documents: set[int] = set()
        self.actions: list[Action] = []
        self.committed = False
        self.commission = FakeCommissionRecords(self)

    async def __aenter__(self) -> FakeUnitOfWork:
        self.db.scopes.append(self.scope)
        self.db.open_units += 1
        self.payments = dict(self.db.payments)
        self.documents = dict(self.db.documents)
        self.attempts = dict(self.db.attempts)
        return self

    def write_attempt(self, attempt: PayoutAttempt) -> None:
        self.attempts_read.setdefault(attempt.id, self.attempts.get(attempt.id))
        self.attempts[attempt.id] = attempt

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.db.open_units -= 1
        if not self.committed:
            self.db.rollbacks += 1  # the copies are simply dropped

    async def complete_key(self, key_id: int, response: str) -> None:
        if (error := self.db.take_failure("complete_key", self.actions)) is not None:
            raise error
        self.completed_keys[key_id] = response

    async def forget_key(self, key_id: int) -> None:
        self.forgotten_keys.add(key_id)

    async def commit(self) -> None:
        if self.committed:
            raise RuntimeError("this unit of work was already committed")
        if (error := self.db.take_failure("commit", self.actions)) is not None:
            raise error
        db = self.db
        for payment_id, version in self.base_versions.items():
            # A real transaction held the row lock; here a rival commit shows as a
            # version that moved on since this one claimed the row.
            if db.payments[payment_id].version != version:
                raise InvalidState(
                    f"Payment {payment_id} changed while this request ran.",
                    status=db.payments[payment_id].status.value,
                    reason="CONCURRENT_CHANGE",
                )
        for attempt_id, read in self.attempts_read.items():
            # A real transaction's conditional updates would have seen a rival's commit.
            if db.attempts.get(attempt_id) != read:
                raise InvalidState(
                    f"Payout attempt {attempt_id} changed while this request ran.",
                    reason="CONCURRENT_CHANGE",
                )
        for payment_id in self.base_versions:
            db.payments[payment_id] = self.payments[payment_id]
        for attempt_id in self.attempts_read:
            db.attempts[attempt_id] = self.attempts[attempt_id]
        for document_id in self.written_documents:
            db.documents[document_id] = self.documents[document_id]
        db.events.extend(self.events)
        db.ledger.extend(self.ledger)
        db.outbox.extend(self.outbox)
        for key_id, response in self.completed_keys.items():
            row = db.keys.get(key_id)
            if row is not None:  # an UPDATE of a released key touches no row
                stored = replace(
                    row.stored,
                    status=IdempotencyStatus.COMPLETED,
                    response=response,
                    locked_until=None,
                )
                db.keys[key_id] = replace(row, stored=stored)
        for key_id in self.forgotten_keys:
            row = db.keys.get(key_id)
            if row is not None and row.stored.status is IdempotencyStatus.IN_FLIGHT:
                del db.keys[key_id]
        db.commits += 1
        self.committed = True


class FakeIdempotencyKeys:
    """domain.writes.IdempotencyKeys: claims and releases commit at once."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.claims: list[KeyRequest] = []
        self.released: list[int] = []
        self.unlocked: list[int] = []
        self.fail_release: BaseException | None = None

    async def claim(self, request: KeyRequest) -> KeyClaim:
        self.claims.append(request)
        fresh = StoredKey(
            id=0,
            request_hash=request.request_hash,
            status=IdempotencyStatus.IN_FLIGHT,
            response=None,
            locked_until=request.lease_until,
            expires_at=request.expires_at,
        )
        existing = next(
            (
                row
                for row in self.db.keys.values()
                if (row.tenant_id, row.key) == (request.tenant_id, request.key)
            ),
            None,
        )
        if existing is None:
            key_id = self.db.next_id()
            row = KeyRow(request.tenant_id, request.key, request.operation, fresh)
            self.db.keys[key_id] = replace(row, stored=replace(fresh, id=key_id))
            return KeyClaim(key_id, locked_until=request.lease_until)
        if verdict(existing.stored, request) is Verdict.REPLAY:
            return KeyClaim(None, existing.stored.response)
        key_id = existing.stored.id
        self.db.keys[key_id] = replace(
            existing, operation=request.operation, stored=replace(fresh, id=key_id)
        )
        return KeyClaim(key_id, locked_until=request.lease_until)

    async def unlock(self, claim: KeyClaim) -> None:
        assert claim.key_id is not None
        self.unlocked.append(claim.key_id)
        row = self._still_held(claim)
        if row is not None:
            self.db.keys[claim.key_id] = replace(row, stored=replace(row.stored, locked_until=None))

    async def release(self, claim: KeyClaim) -> None:
        if self.fail_release is not None:
            error, self.fail_release = self.fail_release, None
            raise error
        assert claim.key_id is not None
        self.released.append(claim.key_id)
        if self._still_held(claim) is not None:
            del self.db.keys[claim.key_id]

    def _still_held(self, claim: KeyClaim) -> KeyRow | None:
        """The claim's key, still in flight under the claim's own lease (not taken over)."""
        assert claim.key_id is not None
        row = self.db.keys.get(claim.key_id)
        if (
            row is not None
            and row.stored.status is IdempotencyStatus.IN_FLIGHT
            and row.stored.locked_until == claim.locked_until
        ):
            return row
        return None


class FakePendingPayouts:
    """domain.writes.PendingPayouts: claims commit at once, like the real one's."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> list[PayoutAttempt]:
        due = sorted(
            (
                a
                for a in self.db.attempts.values()
                if a.status is PayoutAttemptStatus.PENDING
                and (a.locked_until is None or a.locked_until <= now)
            ),
            key=lambda a: (a.created_at, a.id),
        )[:limit]
        claimed = [replace(a, locked_until=until) for a in due]
        for attempt in claimed:
            self.db.attempts[attempt.id] = attempt
        return claimed


# --- the payout provider and the document storage ---------------------------------------


@dataclass
class _Queued:
    error: BaseException
    after_paying: bool  # the provider paid, then the answer was lost


class FakePayoutProvider:
    """domain.payouts.PayoutProvider: records every call, pays once per payout key, and
    raises what it is told to (PayoutFailed, PayoutTimedOut, PayoutDeclined...)."""

    name = "fakepay"

    def __init__(self) -> None:
        self.calls: list[PayoutRequest] = []
        self.paid: dict[str, tuple[PayoutRequest, PayoutReceipt]] = {}
        self._queued: list[_Queued] = []
        self._serial = itertools.count(1)
        self.gate: asyncio.Event | None = None
        self.entered: asyncio.Event | None = None

    def fail_next(self, error: BaseException, *, after_paying: bool = False) -> None:
        self._queued.append(_Queued(error, after_paying))

    def clear(self) -> None:
        """Forget queued failures that no call consumed."""
        self._queued.clear()

    def hold(self) -> tuple[asyncio.Event, asyncio.Event]:
        """Make the next payouts wait: (entered, gate) - set `gate` to let them go on."""
        self.entered, self.gate = asyncio.Event(), asyncio.Event()
        return self.entered, self.gate

    async def pay(self, request: PayoutRequest) -> PayoutReceipt:
        self.calls.append(request)
        if self.gate is not None and self.entered is not None:
            self.entered.set()
            await self.gate.wait()
        queued = self._queued.pop(0) if self._queued else None
        if (
            queued is not None
            and isinstance(queued.error, PayoutDeclined | PayoutRefused)
            and request.payout_key in self.paid
        ):
            # A provider answers for its payout key: one it paid it never declines or
            # refuses afterwards, it answers the payout again. Only the transport fails.
            queued = None
        if queued is not None and not queued.after_paying:
            raise queued.error
        if request.payout_key not in self.paid:
            receipt = PayoutReceipt(self.name, f"fp_{next(self._serial):06d}", "paid")
            self.paid[request.payout_key] = (request, receipt)
        if queued is not None:
            raise queued.error
        return self.paid[request.payout_key][1]

    def payouts_of(self, paid: e.Payment) -> list[PayoutRequest]:
        """The payouts actually sent for a payment, one per payout key."""
        prefix = payout_key(paid, 0).removesuffix("1")
        return [request for key, (request, _) in self.paid.items() if key.startswith(prefix)]


class FakeDocumentStorage:
    """domain.storage.DocumentStorage in a dict, content-addressed like the real one."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(
        self, tenant_id: int, data: bytes | Readable, *, file_name: str, content_type: str
    ) -> StoredFile:
        data = data if isinstance(data, bytes) else data.read()
        key, digest = content_key(tenant_id, data)
        self.files[key] = data
        return StoredFile(key, digest, len(data), content_type, file_name)

    async def get(self, storage_key: str) -> bytes:
        try:
            return self.files[storage_key]
        except KeyError:
            raise FileNotFoundError(storage_key) from None


class FakeClock:
    """A clock the test moves; the workflow reads it as `clock()`."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta = timedelta(seconds=1)) -> datetime:
        self.now += by
        return self.now
