"""The commission use cases over in-memory fakes of the write side: a payout's whole
lifecycle, idempotent paying, what is (and is not) left behind when the payout provider
or the unit of work fails, and how an open payout attempt is resolved."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from domain import entities as e
from domain.commission import Action
from domain.commission_moves import COMMISSION_EXPENSE, MANUAL_PAYOUTS, PAYOUT_CLEARING
from domain.commission_workflow import CommissionWorkflow, NotificationSettings, PayoutTiming
from domain.errors import (
    DomainError,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidState,
    NotFound,
    NotRecorded,
    PayoutDeclined,
    PayoutFailed,
    PayoutRefused,
    PayoutTimedOut,
)
from domain.idempotency import MIN_RETENTION
from domain.ledger import balances
from domain.notifications import Channel
from domain.payouts import payout_key
from domain.permissions import MARK_PARTNER_PAYMENTS_PAID, VIEW_PARTNER_PAYMENTS
from domain.statuses import (
    DocumentStatus,
    IdempotencyStatus,
    PaymentKind,
    PaymentStatus,
    PayoutAttemptStatus,
)
from domain.writes import IdempotencyKeys, UnitOfWorkFactory
from tests.unit.fakes import (
    ADMIN_USER,
    PARTNER,
    PARTNER_USER,
    T0,
    FakeClock,
    FakeDatabase,
    FakeDocumentStorage,
    FakeIdempotencyKeys,
    FakePayoutProvider,
    FakePendingPayouts,
    admin,
    document,
    partner,
    partner_user,
    payment,
    unuploaded,
)

S = PaymentStatus
LEASE = timedelta(seconds=20)
PDF = b"%PDF-1.4 commission invoice\n%%EOF\n"
PAYMENT_ID = 1


@dataclass
class World:
    db: FakeDatabase
    keys: FakeIdempotencyKeys
    payouts: FakePayoutProvider
    storage: FakeDocumentStorage
    clock: FakeClock
    workflow: CommissionWorkflow

    @property
    def payment(self) -> e.Payment:
        return self.db.payments[PAYMENT_ID]

    @property
    def documents(self) -> list[e.PaymentDocument]:
        return self.db.payment_documents(PAYMENT_ID)


def world(*rows: e.Payment | e.PaymentDocument | e.Partner | e.User) -> World:
    """A tenant with Acme, its partner user, an admin and the given rows."""
    db = FakeDatabase()
    db.add(partner(), PARTNER_USER, ADMIN_USER, replace(ADMIN_USER, id=31, name="Bea Admin"))
    db.add(*rows)
    keys, payouts, storage, clock = (
        FakeIdempotencyKeys(db),
        FakePayoutProvider(),
        FakeDocumentStorage(),
        FakeClock(),
    )
    units: UnitOfWorkFactory = db.units
    claims: IdempotencyKeys = keys
    workflow = CommissionWorkflow(
        units,
        claims,
        payouts,
        storage,
        clock=clock,
        notifications=NotificationSettings("#payouts", ("<@payouts-team>",)),
        payout_timing=PayoutTiming(call_timeout=timedelta(seconds=10), lease=LEASE),
        pending_payouts=FakePendingPayouts(db),
    )
    return World(db, keys, payouts, storage, clock, workflow)


def approved_world(**changes: object) -> World:
    """A payout approved for payment yesterday, its one invoice approved."""
    approved = payment(
        status=S.APPROVED_FOR_PAYMENT, approved_for_payment_at=T0 - timedelta(days=1), **changes
    )
    return world(approved, document(status=DocumentStatus.APPROVED))


# --- the lifecycle ----------------------------------------------------------------------


async def test_a_payout_goes_from_generated_to_paid() -> None:
    # given a generated commission without documents
    w = world(payment())
    partner_side, staff = partner_user(), admin()

    # when the partner uploads its two documents and requests the payout
    for kind in ("invoice", "tax_certificate"):
        added = await w.workflow.add_document(
            partner_side,
            PAYMENT_ID,
            kind,
            PDF + kind.encode(),
            file_name=f"{kind}.pdf",
            content_type="application/pdf",
        )
        assert added.document.document_type == kind
        assert added.document.status is DocumentStatus.PENDING
    requested = await w.workflow.request_payment(partner_side, PAYMENT_ID)
    # and staff approves both documents
    first, second = w.documents
    after_first = await w.workflow.approve_document(staff, PAYMENT_ID, first.id)
    after_second = await w.workflow.approve_document(staff, PAYMENT_ID, second.id)
    # and pays
    settled = await w.workflow.pay(staff, PAYMENT_ID, "October commissions", "pay-1")

    # then the payment went through each status and is paid
    assert requested.status is S.PAYMENT_REQUESTED
    assert after_first.status is S.PAYMENT_REQUESTED
    assert after_second.status is S.APPROVED_FOR_PAYMENT
    assert after_second.approved_for_payment_at == T0
    assert settled.replayed is False
    paid = w.payment
    assert settled.payment == paid
    assert paid.status is S.PAID
    assert (paid.paid_at, paid.payment_date, paid.paid_amount) == (T0, T0.date(), 123_456)
    assert paid.tracking_id == "fp_000001"
    assert paid.version == 1 + 7
    # and every step wrote one event, in order
    trail = [(ev.action, ev.from_status, ev.to_status) for ev in w.db.events_of(PAYMENT_ID)]
    assert trail == [
        ("add_document", S.GENERATED, S.GENERATED),
        ("add_document", S.GENERATED, S.GENERATED),
        ("request_payment", S.GENERATED, S.PAYMENT_REQUESTED),
        ("approve_document", S.PAYMENT_REQUESTED, S.PAYMENT_REQUESTED),
        ("approve_document", S.PAYMENT_REQUESTED, S.APPROVED_FOR_PAYMENT),
        ("pay", S.APPROVED_FOR_PAYMENT, S.PAYOUT_IN_PROGRESS),
        ("payout_paid", S.PAYOUT_IN_PROGRESS, S.PAID),
    ]
    assert w.db.events_of(PAYMENT_ID)[-1].actor_label == ADMIN_USER.name
    # and the payout attempt recorded before the call is resolved with the provider's id
    (attempt,) = w.db.attempts.values()
    assert (attempt.status, attempt.payout_id, attempt.locked_until) == (
        PayoutAttemptStatus.PAID,
        "fp_000001",
        None,
    )
    assert attempt.comments == "October commissions"
    # and the provider paid once, to the partner's account, under the approval's key
    (request,) = w.payouts.calls
    assert request.payout_key == payout_key(after_second, 0)
    assert request.destination == PARTNER.payout_account
    assert (request.amount.amount, request.amount.currency) == (123_456, "MXN")
    assert request.reference == "COM-202510-0001"
    # and one balanced posting moved the expense to the provider's clearing account
    lines = w.db.ledger_of(PAYMENT_ID)
    assert {(line.account_code, line.direction.value) for line in lines} == {
        (COMMISSION_EXPENSE, "debit"),
        (PAYOUT_CLEARING, "credit"),
    }
    assert balances(w.db.ledger_lines()) == {"MXN": 0}
    # and Slack heard about the approval and the payment
    topics = [note.topic for note in w.db.outbox_of(PAYMENT_ID)]
    assert topics == ["commission.approved_for_payment", "commission.paid"]
    # and the partner wrote in its own scope, staff in the tenant's, commissions only
    assert w.db.scopes[0].partner_ids == frozenset({PARTNER.id})
    assert w.db.scopes[-1].partner_ids is None
    assert all(scope.payment_kinds == frozenset({PaymentKind.COMMISSION}) for scope in w.db.scopes)


async def test_a_payout_takes_every_side_road_and_ends_manually_paid() -> None:
    # given a requested payout with one uploaded invoice
    w = world(payment(status=S.PAYMENT_REQUESTED), document())
    staff = admin()

    # when staff rejects the invoice, the partner uploads a new one, staff approves it,
    # sends the payout to internal review, approves it again, rejects the payment, and
    # after a last approval marks it as paid outside PayGraph
    await w.workflow.reject_document(staff, PAYMENT_ID, 100, "Blurry scan")
    rejected = w.documents[0]
    await w.workflow.add_document(
        partner_user(),
        PAYMENT_ID,
        "invoice",
        PDF,
        file_name="invoice-v2.pdf",
        content_type="application/pdf",
    )
    replaced = w.documents[0]
    await w.workflow.approve_document(staff, PAYMENT_ID, 100)
    await w.workflow.send_to_internal_review(staff, PAYMENT_ID, "Check the FX rate")
    reviewed = w.payment
    await w.workflow.approve_document(staff, PAYMENT_ID, 100)
    await w.workflow.reject_payment(staff, PAYMENT_ID, "Amounts disagree")
    reset = w.documents[0]
    await w.workflow.approve_document(staff, PAYMENT_ID, 100)
    w.clock.advance(timedelta(hours=1))
    settled = await w.workflow.mark_as_paid(staff, PAYMENT_ID, T0, "mark-1")

    # then each road did what document 000 says
    assert rejected.status is DocumentStatus.REJECTED
    assert rejected.rejection_reason == "Blurry scan"
    assert (replaced.status, replaced.file_name, replaced.rejection_reason) == (
        DocumentStatus.PENDING,
        "invoice-v2.pdf",
        None,
    )
    assert (reviewed.status, reviewed.approved_for_payment_at) == (S.UNDER_REVIEW, None)
    assert reviewed.comments == "Check the FX rate"
    assert (reset.status, reset.reviewed_by_id, reset.reviewed_at) == (
        DocumentStatus.PENDING,
        None,
        None,
    )
    assert settled.payment.status is S.MANUALLY_PAID
    assert settled.payment.paid_at == T0
    statuses = [ev.to_status for ev in w.db.events_of(PAYMENT_ID)]
    assert statuses == [
        S.DOCUMENTS_REJECTED,
        S.DOCUMENTS_REJECTED,
        S.APPROVED_FOR_PAYMENT,
        S.UNDER_REVIEW,
        S.APPROVED_FOR_PAYMENT,
        S.DOCUMENTS_REJECTED,
        S.APPROVED_FOR_PAYMENT,
        S.MANUALLY_PAID,
    ]
    # and no money went through the provider; the manual payout is posted once
    assert w.payouts.calls == []
    assert {line.account_code for line in w.db.ledger_of(PAYMENT_ID)} == {
        COMMISSION_EXPENSE,
        MANUAL_PAYOUTS,
    }
    # and the partner got a Spanish e-mail, staff Slack messages with the mentions
    notes = w.db.outbox_of(PAYMENT_ID)
    email = next(note for note in notes if note.channel is Channel.EMAIL)
    assert email.payload["to"] == PARTNER_USER.email
    assert email.payload["locale"] == "es"
    assert "Motivo: Blurry scan" in email.payload["text"]
    rejection = next(note for note in notes if note.topic == "commission.payment_rejected")
    assert rejection.payload["channel"] == "#payouts"
    assert "<@payouts-team>" in str(rejection.payload["blocks"])


async def test_an_upload_is_stored_before_its_row_and_a_refused_one_leaves_no_row() -> None:
    # given a payout already approved for payment, where uploads are closed
    w = approved_world()
    before = w.db.snapshot()

    # when the partner uploads anyway
    with pytest.raises(InvalidState) as refused:
        await w.workflow.add_document(
            partner_user(),
            PAYMENT_ID,
            "tax_certificate",
            PDF,
            file_name="tax.pdf",
            content_type="application/pdf",
        )

    # then the bytes are stored (content-addressed, harmless), but no row is written
    assert refused.value.reason == "WRONG_STATUS"
    assert list(w.storage.files.values()) == [PDF]
    assert w.db.snapshot() == before


# --- who may write what -------------------------------------------------------------------


async def test_a_partner_user_cannot_reach_another_partners_payment() -> None:
    w = world(payment(), document())
    stranger = partner_user(partner_id=11, user_id=21)

    with pytest.raises(NotFound):
        await w.workflow.request_payment(stranger, PAYMENT_ID)
    assert w.db.events == []


async def test_staff_of_another_tenant_cannot_reach_the_payment() -> None:
    w = approved_world()

    with pytest.raises(NotFound):
        await w.workflow.pay(admin(tenant_id=2), PAYMENT_ID, None, "pay-1")
    assert w.payouts.calls == []


async def test_a_refused_action_changes_nothing() -> None:
    # given a requested payout
    w = world(payment(status=S.PAYMENT_REQUESTED), document())
    before = w.db.snapshot()

    # when its partner user tries to approve its own document
    with pytest.raises(Forbidden):
        await w.workflow.approve_document(partner_user(VIEW_PARTNER_PAYMENTS), PAYMENT_ID, 100)
    # and staff tries to pay it before it is approved
    with pytest.raises(InvalidState):
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then nothing was written, not even the idempotency key
    assert w.db.snapshot() == before
    assert w.db.commits == 0
    assert w.payouts.calls == []


async def test_a_transition_that_loses_the_race_changes_nothing() -> None:
    # given a requested payout that staff starts to approve
    w = world(payment(status=S.PAYMENT_REQUESTED), document())

    async def rival() -> None:
        # another request sends it to internal review while the approval runs
        await w.workflow.send_to_internal_review(admin(), PAYMENT_ID, "Hold on")

    w.db.before_apply = rival

    # when the approval writes
    with pytest.raises(InvalidState) as lost:
        await w.workflow.approve_document(admin(), PAYMENT_ID, 100)

    # then it says the payment moved on, and only the rival's change is there
    assert lost.value.reason == "CONCURRENT_CHANGE"
    assert lost.value.status == "under_review"
    assert [ev.action for ev in w.db.events] == ["send_to_internal_review"]
    assert w.documents[0].status is DocumentStatus.PENDING


# --- paying is idempotent -----------------------------------------------------------------


async def test_paying_again_with_the_same_key_replays_without_calling_the_provider() -> None:
    # given a payout paid with a key
    w = approved_world()
    first = await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # when the same admin sends the same request again, within the key's retention
    w.clock.advance(MIN_RETENTION - timedelta(seconds=1))
    again = await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then it gets the payment back, marked as a replay, and nothing happens again
    assert (first.replayed, again.replayed) == (False, True)
    assert again.payment == first.payment
    assert len(w.payouts.calls) == 1
    assert [ev.action for ev in w.db.events_of(PAYMENT_ID)] == ["pay", "payout_paid"]
    (key,) = w.db.keys.values()
    assert key.stored.status is IdempotencyStatus.COMPLETED


async def test_the_same_key_with_other_comments_is_refused() -> None:
    w = approved_world()
    await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    with pytest.raises(IdempotencyKeyReused) as refused:
        await w.workflow.pay(admin(), PAYMENT_ID, "Another note", "pay-1")

    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert len(w.payouts.calls) == 1


async def test_the_same_key_from_another_admin_is_refused() -> None:
    w = approved_world()
    await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    with pytest.raises(IdempotencyKeyReused):
        await w.workflow.pay(admin(user_id=31), PAYMENT_ID, None, "pay-1")


async def test_the_same_key_is_in_use_while_the_first_payout_runs() -> None:
    # given a payout whose provider call is still running
    w = approved_world()
    entered, gate = w.payouts.hold()
    first = asyncio.create_task(w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1"))
    await entered.wait()

    # when the same request arrives meanwhile
    with pytest.raises(IdempotencyKeyInUse) as busy:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then it is told to wait, and the first one finishes on its own
    gate.set()
    settled = await first
    assert busy.value.code == "IDEMPOTENCY_KEY_IN_USE"
    assert settled.payment.status is S.PAID
    assert len(w.payouts.calls) == 1


async def test_a_key_is_forgotten_after_its_retention() -> None:
    # given a key completed for a payout
    w = approved_world()
    await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # when the key is reused for another request once its retention is over
    w.clock.advance(MIN_RETENTION)

    # then it runs as a new request (and is refused by the state machine, not the key)
    with pytest.raises(InvalidState) as refused:
        await w.workflow.pay(admin(), PAYMENT_ID, "Another note", "pay-1")
    assert refused.value.reason == "WRONG_STATUS"


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "tab\there"])
async def test_a_malformed_key_is_refused_before_anything_runs(key: str) -> None:
    w = approved_world()

    with pytest.raises(DomainError) as refused:
        await w.workflow.pay(admin(), PAYMENT_ID, None, key)

    assert refused.value.field == "idempotencyKey"
    assert w.keys.claims == []


async def test_marking_as_paid_replays_with_its_key() -> None:
    w = approved_world()
    staff = admin(MARK_PARTNER_PAYMENTS_PAID)

    first = await w.workflow.mark_as_paid(staff, PAYMENT_ID, T0 - timedelta(hours=2), "m-1")
    again = await w.workflow.mark_as_paid(staff, PAYMENT_ID, T0 - timedelta(hours=2), "m-1")

    assert first.payment.status is S.MANUALLY_PAID
    assert again.replayed
    assert len(w.db.ledger_of(PAYMENT_ID)) == 2
    with pytest.raises(IdempotencyKeyReused):
        await w.workflow.mark_as_paid(staff, PAYMENT_ID, T0 - timedelta(hours=3), "m-1")


async def test_marking_as_paid_in_the_future_releases_the_key() -> None:
    w = approved_world()
    before = w.db.snapshot()

    with pytest.raises(DomainError) as refused:
        await w.workflow.mark_as_paid(admin(), PAYMENT_ID, T0 + timedelta(minutes=1), "m-1")

    assert refused.value.field == "paidAt"
    assert w.db.snapshot() == before
    settled = await w.workflow.mark_as_paid(admin(), PAYMENT_ID, T0, "m-1")
    assert settled.replayed is False


# --- when the provider or the write side fails --------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [PayoutFailed("The provider answered 503."), PayoutTimedOut("No answer in 10 s.")],
    ids=["failed", "timed-out"],
)
@pytest.mark.parametrize("paid", [False, True], ids=["not-paid", "paid-anyway"])
async def test_a_payout_whose_answer_is_unknown_stays_in_progress_until_the_retry(
    failure: PayoutFailed, paid: bool
) -> None:
    # given an approved payout whose provider call fails without saying whether it paid
    w = approved_world()
    w.payouts.fail_next(failure, after_paying=paid)

    # when staff pays
    with pytest.raises(PayoutFailed) as failed:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then the error is the provider's, and says the payout is in progress
    assert failed.value.code == failure.code
    assert "same idempotency key" in failed.value.message
    assert w.payment.status is S.PAYOUT_IN_PROGRESS
    (attempt,) = w.db.pending_attempts(PAYMENT_ID)
    assert attempt.locked_until is None  # a retry may take it at once
    assert w.db.ledger == []
    # and the key stays in flight, unlocked, for the retry to take over
    (key,) = w.db.keys.values()
    assert (key.stored.status, key.stored.locked_until) == (IdempotencyStatus.IN_FLIGHT, None)
    # and marking it as paid meanwhile is refused
    with pytest.raises(InvalidState) as refused:
        await w.workflow.mark_as_paid(admin(), PAYMENT_ID, T0, "mark-1")
    assert refused.value.reason == "PAYOUT_IN_PROGRESS"

    # when the retry with the same key runs
    retried = await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then it resolves the same attempt: one payout key, one payout, one posting
    assert retried.replayed is False
    assert retried.payment.status is S.PAID
    assert {call.payout_key for call in w.payouts.calls} == {attempt.request.payout_key}
    assert len(w.payouts.calls) == 2
    assert len(w.payouts.paid) == 1
    assert len(w.db.ledger_of(PAYMENT_ID)) == 2
    (key,) = w.db.keys.values()
    assert key.stored.status is IdempotencyStatus.COMPLETED


async def test_a_payout_the_provider_refuses_is_approved_for_payment_again() -> None:
    # given an approved payout the provider refuses (it made no payout)
    w = approved_world()
    w.payouts.fail_next(PayoutRefused("The payout provider refused the payout (400)."))

    # when staff pays
    with pytest.raises(PayoutRefused) as refused:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then the payment is approved for payment again, in PayGraph's name, key released
    assert "approved for payment again" in refused.value.message
    assert w.payment.status is S.APPROVED_FOR_PAYMENT
    trail = [(ev.action, ev.to_status, ev.actor_label) for ev in w.db.events_of(PAYMENT_ID)]
    assert trail == [
        ("pay", S.PAYOUT_IN_PROGRESS, ADMIN_USER.name),
        ("payout_failed", S.APPROVED_FOR_PAYMENT, "PayGraph"),
    ]
    (attempt,) = w.db.attempts.values()
    assert attempt.status is PayoutAttemptStatus.FAILED
    assert w.db.keys == {}
    assert w.db.ledger == []
    # and paying again sends the same payout key
    retried = await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")
    assert retried.payment.status is S.PAID
    first_call, second_call = w.payouts.calls
    assert first_call.payout_key == second_call.payout_key


@pytest.mark.parametrize("step", ["apply", "complete_key", "commit"])
async def test_a_payout_sent_but_not_recorded_is_never_paid_twice(step: str) -> None:
    # given an approved payout, and a write side that breaks once the money has left
    w = approved_world()
    w.db.fail(step, RuntimeError("connection reset"), action=Action.PAYOUT_PAID)

    # when staff pays
    with pytest.raises(NotRecorded) as not_recorded:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then it hears that the answer was not recorded and that retrying is safe
    assert not_recorded.value.code == "TRANSACTION_FAILED"
    assert isinstance(not_recorded.value.__cause__, RuntimeError)
    assert "same idempotency key" in not_recorded.value.message
    # and the payout is in progress, its attempt free for the retry, nothing posted
    assert w.payment.status is S.PAYOUT_IN_PROGRESS
    (attempt,) = w.db.pending_attempts(PAYMENT_ID)
    assert attempt.locked_until is None
    assert w.db.ledger == []
    assert len(w.payouts.paid) == 1
    # and the retry with the same key records the payout the provider already made
    retried = await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")
    assert retried.payment.status is S.PAID
    first_call, second_call = w.payouts.calls
    assert first_call.payout_key == second_call.payout_key
    assert len(w.payouts.paid) == 1
    assert retried.payment.tracking_id == next(iter(w.payouts.paid.values()))[1].payout_id
    assert len(w.db.ledger_of(PAYMENT_ID)) == 2


async def test_a_declined_payout_rejects_the_payment_and_says_so() -> None:
    # given an approved payout whose account the provider refuses
    w = approved_world()
    w.payouts.fail_next(PayoutDeclined("The account po_1234567890 is closed."))

    # when staff pays
    with pytest.raises(PayoutDeclined) as declined:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # then the decline is committed: payment rejected, in PayGraph's name, on Slack
    assert declined.value.code == "PAYOUT_DECLINED"
    rejected = w.payment
    assert rejected.status is S.PAYMENT_REJECTED
    assert rejected.comments == "The account po_1234567890 is closed."
    started, event = w.db.events_of(PAYMENT_ID)
    assert (started.action, started.to_status) == ("pay", S.PAYOUT_IN_PROGRESS)
    assert (event.action, event.actor_id, event.actor_label) == (
        "payout_declined",
        None,
        "PayGraph",
    )
    assert [note.topic for note in w.db.outbox_of(PAYMENT_ID)] == ["commission.payout_declined"]
    assert w.db.ledger == []
    assert w.payouts.paid == {}
    assert [a.status for a in w.db.attempts.values()] == [PayoutAttemptStatus.DECLINED]
    # and the key is free, but the payment can no longer be paid
    assert w.db.keys == {}
    with pytest.raises(InvalidState) as refused:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")
    assert refused.value.status == "payment_rejected"


async def test_a_key_that_cannot_be_released_does_not_hide_the_first_error() -> None:
    w = approved_world()
    w.payouts.fail_next(PayoutRefused("400"))
    w.keys.fail_release = RuntimeError("database gone")

    with pytest.raises(PayoutRefused):
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # the claim stays in flight until its lease runs out
    (key,) = w.db.keys.values()
    assert key.stored.status is IdempotencyStatus.IN_FLIGHT
    with pytest.raises(IdempotencyKeyInUse):
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")
    w.clock.advance(timedelta(seconds=61))
    assert (await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")).payment.status is S.PAID


async def test_a_payout_waits_for_its_cutoff_and_a_partner_account() -> None:
    w = approved_world(cutoff_date=T0.date() + timedelta(days=1))

    with pytest.raises(InvalidState) as early:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")
    w.clock.advance(timedelta(days=1))
    w.db.partners[PARTNER.id] = partner(payout_account=None)
    with pytest.raises(InvalidState) as no_account:
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    assert early.value.reason == "CUTOFF_NOT_REACHED"
    assert no_account.value.reason == "NO_PAYOUT_ACCOUNT"
    assert w.payouts.calls == []


async def test_a_required_document_not_uploaded_keeps_the_request_closed() -> None:
    w = world(payment(), document(), unuploaded(id=101, document_type="tax_certificate"))

    with pytest.raises(InvalidState) as refused:
        await w.workflow.request_payment(partner_user(), PAYMENT_ID)

    assert refused.value.reason == "DOCUMENTS_MISSING"


# --- production bugs: these fail until the workflow is fixed ------------------------------


def _money_out(w: World) -> int:
    """How many times the payment's money left: provider payouts plus manual postings."""
    manual = {line.posting_id for line in w.db.ledger_of(PAYMENT_ID)}
    manual_postings = sum(
        1
        for posting in manual
        if any(
            line.account_code == MANUAL_PAYOUTS
            for line in w.db.ledger_of(PAYMENT_ID)
            if line.posting_id == posting
        )
    )
    return len(w.payouts.payouts_of(w.payment)) + manual_postings


async def test_a_timed_out_payout_is_not_paid_again_after_internal_review() -> None:
    # given a payout that timed out although the provider did pay it
    w = approved_world()
    w.payouts.fail_next(PayoutTimedOut("No answer in 10 s."), after_paying=True)
    with pytest.raises(PayoutTimedOut):
        await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")

    # when staff tries to send it to internal review, to mark it as paid, then pays
    with pytest.raises(InvalidState) as review:
        await w.workflow.send_to_internal_review(admin(), PAYMENT_ID, "Did it go out?")
    with pytest.raises(InvalidState) as mark:
        await w.workflow.mark_as_paid(admin(), PAYMENT_ID, T0, "mark-1")
    w.clock.advance(timedelta(minutes=5))
    await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-2")

    # then only paying was allowed, and the provider has still paid once
    assert (review.value.reason, mark.value.reason) == ("PAYOUT_IN_PROGRESS",) * 2
    assert w.payment.status is S.PAID
    assert _money_out(w) == 1


async def test_a_zero_amount_commission_never_reaches_the_provider_unrecorded() -> None:
    # given an approved commission of nothing
    w = approved_world(amount=0)

    # when staff pays it
    try:
        settled = await w.workflow.pay(admin(), PAYMENT_ID, None, "pay-1")
    except NotRecorded:
        pytest.fail("the provider was called and the payout could not be recorded")
    except DomainError:
        # then either it is refused before any money moves...
        assert w.payouts.calls == []
    else:
        # ...or it is settled and recorded
        assert settled.payment.status is S.PAID


async def test_marking_a_zero_amount_commission_as_paid_is_a_domain_outcome() -> None:
    w = approved_world(amount=0)

    with contextlib.suppress(DomainError):
        await w.workflow.mark_as_paid(admin(), PAYMENT_ID, T0, "mark-1")
