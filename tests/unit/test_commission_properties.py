"""Random sequences of commission actions, by random callers with random permissions,
over random documents, through the workflow and its in-memory fakes: after every step
the payout's invariants hold, whatever was allowed or refused."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import pairwise

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain import entities as e
from domain.commission import Action
from domain.commission_moves import (
    COMMISSION_EXPENSE,
    DOCUMENT_TYPES,
    MANUAL_PAYOUTS,
    PAYOUT_CLEARING,
)
from domain.commission_workflow import CommissionWorkflow, NotificationSettings
from domain.errors import (
    BadUserInput,
    DomainError,
    NotFound,
    NotRecorded,
    PayoutDeclined,
    PayoutFailed,
    PayoutRefused,
    PayoutTimedOut,
)
from domain.ledger import balances
from domain.permissions import ALL_PERMISSIONS, REQUEST_PARTNER_PAYMENTS
from domain.principal import Credential, Principal
from domain.statuses import (
    STATUSES_BY_KIND,
    DocumentStatus,
    IdempotencyStatus,
    PaymentKind,
    PaymentStatus,
    PayoutAttemptStatus,
)
from tests.unit.fakes import (
    ADMIN_USER,
    PARTNER,
    PARTNER_USER,
    STAFF_PERMISSIONS,
    T0,
    TENANT_ID,
    FakeClock,
    FakeDatabase,
    FakeDocumentStorage,
    FakeIdempotencyKeys,
    FakePayoutProvider,
    document,
    partner,
    payment,
    unuploaded,
)

S = PaymentStatus
COMMISSION_STATUSES = frozenset(STATUSES_BY_KIND[PaymentKind.COMMISSION])
PAYMENT_ID = 1
ACTIONS = (
    "request",
    "add",
    "approve",
    "approve",
    "reject_document",
    "review",
    "pay",
    "pay",
    "reject",
    "mark",
    "tick",
)
FAULTS = (
    None,
    None,
    None,
    "failed",
    "timed_out",
    "timed_out_paid",  # the provider paid, but its answer never arrived
    "refused",
    "declined",
    "not_recorded",
)
# Blobs an upload may carry: the third has a content type documents may not have.
UPLOADS = (
    (b"%PDF-1.4 a", "application/pdf"),
    (b"\x89PNG b", "image/png"),
    (b"<html>", "text/html"),
)

# --- what a run is made of ----------------------------------------------------------------


@st.composite
def principals(draw: st.DrawFn) -> Principal:
    """The payee's partner user, another partner's user, one of two admins, or a reseller
    manager, each with a random set of permissions (often just the ones it needs)."""
    kind = draw(st.sampled_from(["partner", "admin", "stranger", "manager"]))
    any_set = st.frozensets(st.sampled_from(sorted(ALL_PERMISSIONS)))
    usual = draw(st.integers(0, 3)) > 0
    if kind in ("partner", "stranger"):
        permissions = frozenset({REQUEST_PARTNER_PAYMENTS}) if usual else draw(any_set)
        partner_id, user_id = (PARTNER.id, PARTNER_USER.id) if kind == "partner" else (11, 21)
        return Principal(TENANT_ID, user_id, Credential.JWT, permissions, partner_id=partner_id)
    if kind == "admin":
        permissions = STAFF_PERMISSIONS if usual else draw(any_set)
        user_id = draw(st.sampled_from([ADMIN_USER.id, 31]))
        return Principal(TENANT_ID, user_id, Credential.JWT, permissions)
    return Principal(
        TENANT_ID,
        None,
        Credential.API_TOKEN,
        draw(any_set),
        reseller_id=PARTNER.id,
        reseller_tree=frozenset({PARTNER.id}),
    )


@dataclass(frozen=True)
class Step:
    action: str
    who: Principal | None  # None: the caller the action is meant for, as usual
    choice: int  # which document, document type, moment or admin
    upload: int  # which of UPLOADS
    text: str | None
    key: str
    fault: str | None

    def caller(self) -> Principal:
        if self.who is not None:
            return self.who
        if self.action in ("request", "add"):
            return Principal(
                TENANT_ID,
                PARTNER_USER.id,
                Credential.JWT,
                frozenset({REQUEST_PARTNER_PAYMENTS}),
                partner_id=PARTNER.id,
            )
        admin_id = (ADMIN_USER.id, 31)[self.choice % 2]
        return Principal(TENANT_ID, admin_id, Credential.JWT, STAFF_PERMISSIONS)


steps = st.builds(
    Step,
    action=st.sampled_from(ACTIONS),
    who=st.none() | st.none() | principals(),
    choice=st.integers(0, 3),
    upload=st.integers(0, len(UPLOADS) - 1),
    text=st.sampled_from(["Looks fine", "Check the rate", None, "  "]),
    key=st.sampled_from(["k1", "k2", "k3"]),
    fault=st.sampled_from(FAULTS),
)


@st.composite
def payouts(draw: st.DrawFn) -> tuple[e.Payment, list[e.PaymentDocument], e.Partner]:
    """A commission generated, requested or approved, with documents that fit."""
    start = draw(st.sampled_from([S.GENERATED, S.PAYMENT_REQUESTED] + [S.APPROVED_FOR_PAYMENT] * 2))
    documents = []
    for index, kind in enumerate(DOCUMENT_TYPES):
        if not draw(st.booleans()):
            continue
        required = draw(st.booleans())
        uploaded = (start is not S.GENERATED and required) or draw(st.booleans())
        status = DocumentStatus.APPROVED if start is S.APPROVED_FOR_PAYMENT else None
        made = document if uploaded else unuploaded
        documents.append(
            made(
                id=100 + index,
                document_type=kind,
                required=required,
                status=status if uploaded and status else DocumentStatus.PENDING,
            )
        )
    if start is not S.GENERATED and not any(d.storage_key for d in documents):
        # a requested payout has at least one uploaded document
        reviewed = DocumentStatus.APPROVED if start is S.APPROVED_FOR_PAYMENT else None
        first = documents.pop(0) if documents else document(id=99)
        documents.insert(
            0,
            document(
                id=first.id,
                document_type=first.document_type,
                required=first.required,
                status=reviewed or DocumentStatus.PENDING,
            ),
        )
    commission = payment(
        status=start,
        amount=draw(st.integers(1, 10**9)),
        currency=draw(st.sampled_from(["MXN", "USD", "JPY", "KWD"])),
        cutoff_date=draw(
            st.none() | st.sampled_from([T0.date() + timedelta(d) for d in (-1, 0, 2)])
        ),
        approved_for_payment_at=T0 - timedelta(days=1) if start is S.APPROVED_FOR_PAYMENT else None,
    )
    account = draw(st.sampled_from(["po_1234567890"] * 4 + [None]))
    return commission, documents, partner(payout_account=account)


# --- running a step -----------------------------------------------------------------------


@dataclass
class Run:
    db: FakeDatabase
    provider: FakePayoutProvider
    clock: FakeClock
    workflow: CommissionWorkflow

    @property
    def payment(self) -> e.Payment:
        return self.db.payments[PAYMENT_ID]


def new_run(commission: e.Payment, documents: list[e.PaymentDocument], owner: e.Partner) -> Run:
    db = FakeDatabase()
    db.add(owner, PARTNER_USER, ADMIN_USER, replace(ADMIN_USER, id=31), commission, *documents)
    provider, clock = FakePayoutProvider(), FakeClock()
    workflow = CommissionWorkflow(
        db.units,
        FakeIdempotencyKeys(db),
        provider,
        FakeDocumentStorage(),
        clock=clock,
        notifications=NotificationSettings("#payouts"),
    )
    return Run(db, provider, clock, workflow)


async def take(run: Run, step: Step) -> None:
    """Take one step; raises what the workflow raises."""
    w, who, text = run.workflow, step.caller(), step.text
    documents = run.db.payment_documents(PAYMENT_ID)
    document_id = documents[step.choice].id if step.choice < len(documents) else 9999
    if step.action == "request":
        await w.request_payment(who, PAYMENT_ID)
    elif step.action == "add":
        data, content_type = UPLOADS[step.upload]
        kind = DOCUMENT_TYPES[step.choice % len(DOCUMENT_TYPES)]
        await w.add_document(who, PAYMENT_ID, kind, data, file_name="f", content_type=content_type)
    elif step.action == "approve":
        await w.approve_document(who, PAYMENT_ID, document_id)
    elif step.action == "reject_document":
        await w.reject_document(who, PAYMENT_ID, document_id, text)
    elif step.action == "review":
        await w.send_to_internal_review(who, PAYMENT_ID, text)
    elif step.action == "reject":
        await w.reject_payment(who, PAYMENT_ID, text)
    elif step.action == "tick":
        run.clock.advance(timedelta(days=1))
    elif step.action == "mark":
        paid_at = (
            run.clock() + (timedelta(days=-2), timedelta(0), timedelta(hours=1))[step.choice % 3]
        )
        await w.mark_as_paid(who, PAYMENT_ID, paid_at, step.key)
    else:
        await pay(run, step)


async def pay(run: Run, step: Step) -> None:
    if step.fault == "failed":
        run.provider.fail_next(PayoutFailed("503 from the provider"))
    elif step.fault == "timed_out":
        run.provider.fail_next(PayoutTimedOut("no answer"))
    elif step.fault == "timed_out_paid":
        run.provider.fail_next(PayoutTimedOut("no answer"), after_paying=True)
    elif step.fault == "refused":
        run.provider.fail_next(PayoutRefused("400 from the provider"))
    elif step.fault == "declined":
        run.provider.fail_next(PayoutDeclined("account closed"))
    elif step.fault == "not_recorded":
        run.db.fail("commit", RuntimeError("connection reset"), action=Action.PAYOUT_PAID)
    try:
        await run.workflow.pay(step.caller(), PAYMENT_ID, step.text, step.key)
    except NotRecorded:
        # what the error tells the caller to do: retry with the same key
        event("pay: not recorded, retried")
        await run.workflow.pay(step.caller(), PAYMENT_ID, step.text, step.key)


# --- the invariants -----------------------------------------------------------------------


@dataclass(frozen=True)
class Before:
    payment: e.Payment
    events: int
    commits: int
    snapshot: tuple[object, ...]


def check(run: Run, before: Before, step: Step, error: DomainError | None) -> None:
    db, now = run.db, run.payment
    committed = db.commits - before.commits
    new_events = db.events[before.events :]

    # the status is one of the nine
    assert now.status in COMMISSION_STATUSES

    # every change of the payment wrote exactly one event, each from the status the one
    # before reached (a payout writes up to two: sent, then answered), in at most as
    # many commits
    assert len(new_events) <= committed
    assert len(new_events) <= (2 if step.action == "pay" else 1)
    assert now.version == before.payment.version + len(new_events)
    if new_events:
        assert new_events[0].from_status == before.payment.status
        assert new_events[-1].to_status == now.status
        for earlier, later in pairwise(new_events):
            assert earlier.to_status == later.from_status
        assert {change.payment_id for change in new_events} == {PAYMENT_ID}
    elif not isinstance(error, PayoutFailed | NotRecorded):
        # refused (or replayed) actions changed nothing, keys included (a key past its
        # retention may be taken over and forgotten)
        *rows, keys = db.snapshot()
        *rows_before, keys_before = before.snapshot
        assert rows == rows_before
        assert isinstance(keys, dict) and isinstance(keys_before, dict)
        kept = {k: v for k, v in keys_before.items() if v.expires_at > run.clock()}
        assert {k: v for k, v in keys.items() if k in kept} == kept
        assert keys.keys() <= keys_before.keys()
    if isinstance(error, PayoutDeclined):
        assert now.status is S.PAYMENT_REJECTED
        assert new_events[-1].action == "payout_declined"
    elif isinstance(error, PayoutRefused):
        assert now.status is S.APPROVED_FOR_PAYMENT
        assert new_events[-1].action == "payout_failed"
    elif isinstance(error, PayoutFailed | NotRecorded):
        # the answer is unknown: the payout stays in progress for a retry or the reconcile
        assert now.status is S.PAYOUT_IN_PROGRESS
        assert new_events == [] or new_events[-1].action == "pay"
    elif error is not None:
        assert new_events == []

    # a payout in progress has exactly one open attempt, nothing else has any
    pending = db.pending_attempts(PAYMENT_ID)
    assert len(pending) == (1 if now.status is S.PAYOUT_IN_PROGRESS else 0)
    assert all(
        a.status is not PayoutAttemptStatus.PENDING or a in pending for a in db.attempts.values()
    )
    if step.caller().partner_id == 11 and step.action != "tick":
        # another partner's user never learns anything about the payment's state
        # (its arguments and its idempotency key are checked before the lookup)
        assert isinstance(error, NotFound | BadUserInput)

    # the ledger balances in every currency
    assert all(total == 0 for total in balances(db.ledger_lines()).values())

    # at most one posting, matching how the payment was paid; money left at most once,
    # and what left through the provider is what the payment records
    lines = db.ledger_of(PAYMENT_ID)
    postings: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        postings[line.posting_id].add(line.account_code)
    assert len(postings) <= 1
    accounts = next(iter(postings.values()), set())
    sent = run.provider.payouts_of(now)
    manual = accounts == {COMMISSION_EXPENSE, MANUAL_PAYOUTS}
    assert len(sent) + manual <= 1
    if now.status is S.PAID:
        assert accounts == {COMMISSION_EXPENSE, PAYOUT_CLEARING}
        assert len(sent) == 1
        assert now.tracking_id == run.provider.paid[sent[0].payout_key][1].payout_id
    elif now.status is S.MANUALLY_PAID:
        assert manual
    elif now.status is S.PAYOUT_IN_PROGRESS:
        # the provider may have paid already; only its answer is missing
        assert accounts == set()
        assert [request.payout_key for request in sent] in (
            [],
            [pending[0].request.payout_key],
        )
    else:
        assert accounts == set()
        assert sent == []
    assert all(line.amount == now.amount for line in lines)

    # the documents stay one per type; approved for payment means every required one
    # is approved, and only then is the payment stamped as approved
    documents = db.payment_documents(PAYMENT_ID)
    assert len({d.document_type for d in documents}) == len(documents)
    if now.status is S.APPROVED_FOR_PAYMENT:
        assert all(d.status is DocumentStatus.APPROVED for d in documents if d.required)
        assert now.approved_for_payment_at is not None
    if now.status in (S.GENERATED, S.PAYMENT_REQUESTED, S.DOCUMENTS_REJECTED, S.UNDER_REVIEW):
        assert now.approved_for_payment_at is None

    # no request is left in flight, but the one that started a payout still in progress
    # (unlocked, so its retry takes the payout over)
    in_flight = [
        row for row in db.keys.values() if row.stored.status is not IdempotencyStatus.COMPLETED
    ]
    for row in in_flight:
        assert now.status is S.PAYOUT_IN_PROGRESS
        assert row.stored.id == pending[0].key_id
        assert row.stored.locked_until is None


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(start=payouts(), sequence=st.lists(steps, min_size=5, max_size=40))
async def test_random_action_sequences_keep_the_payout_invariants(
    start: tuple[e.Payment, list[e.PaymentDocument], e.Partner], sequence: list[Step]
) -> None:
    run = new_run(*start)
    for step in sequence:
        run.clock.advance(timedelta(minutes=1))
        before = Before(run.payment, len(run.db.events), run.db.commits, run.db.snapshot())
        error: DomainError | None = None
        try:
            await take(run, step)
        except DomainError as refused:
            error = refused
        finally:
            run.provider.clear()
            run.db.clear_failures()
        outcome = type(error).__name__ if error else "done"
        event(f"{step.action}: {outcome} {getattr(error, 'reason', None) or ''}".strip())
        check(run, before, step, error)
    event(f"ended {run.payment.status.value}")
