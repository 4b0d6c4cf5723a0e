"""The commission payout lifecycle as data: one row per action, naming
who may take it, from which statuses, to which status, under which extra rules and
with which side effects. The mutations, `Payment.availableTransitions` and the diagram
in docs/commission-payouts.md all read this table; nothing else decides whether an
action is allowed.

    generated --request_payment--> payment_requested --approve_document (every required
    document approved)--> approved_for_payment --pay--> payout_in_progress --the provider
    paid--> paid, and the side roads: reject_document -> documents_rejected,
    send_to_internal_review -> under_review, reject_payment -> documents_rejected, a
    declined payout -> payment_rejected, a payout the provider refused -> back to
    approved_for_payment, mark_as_paid -> manually_paid.

While a payout is in progress only `pay` is allowed (it resolves the open attempt by
asking the provider again, never a second payout); every other action is blocked with
PAYOUT_IN_PROGRESS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from domain import entities as e
from domain.errors import Forbidden, InvalidState
from domain.permissions import OPERATIONS
from domain.principal import AccessScope, Principal
from domain.statuses import DocumentStatus, PaymentKind, PaymentStatus

S = PaymentStatus  # the table below reads better short


class Action(StrEnum):
    REQUEST_PAYMENT = "request_payment"
    ADD_DOCUMENT = "add_document"
    APPROVE_DOCUMENT = "approve_document"
    REJECT_DOCUMENT = "reject_document"
    SEND_TO_INTERNAL_REVIEW = "send_to_internal_review"
    PAY = "pay"
    REJECT_PAYMENT = "reject_payment"
    MARK_AS_PAID = "mark_as_paid"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_DECLINED = "payout_declined"
    PAYOUT_FAILED = "payout_failed"


class Caller(StrEnum):
    """Who takes an action: the payee's own partner user, tenant staff, or PayGraph."""

    PARTNER_USER = "partner_user"
    STAFF = "staff"
    SYSTEM = "system"


class Guard(StrEnum):
    """Rules beyond the status that an action checks."""

    DOCUMENTS_UPLOADED = "documents_uploaded"
    DOCUMENT_TO_REVIEW = "document_to_review"
    DOCUMENTS_APPROVED = "documents_approved"
    PAYOUT_ACCOUNT = "payout_account"
    CUTOFF_REACHED = "cutoff_reached"
    SOMETHING_TO_PAY = "something_to_pay"


class Effect(StrEnum):
    STORE_FILE = "store_file"
    RECORD_REVIEW = "record_review"
    APPROVE_WHEN_COMPLETE = "approve_when_complete"  # the target only when all are approved
    CLEAR_APPROVAL = "clear_approval"
    RESET_REVIEWED_DOCUMENTS = "reset_reviewed_documents"
    RECORD_PAYOUT_ATTEMPT = "record_payout_attempt"
    EXECUTE_PAYOUT = "execute_payout"
    POST_LEDGER = "post_ledger"
    EMAIL_DOCUMENT_REJECTED = "email_document_rejected"
    SLACK_APPROVED_FOR_PAYMENT = "slack_approved_for_payment"
    SLACK_COMMISSIONS_PAID = "slack_commissions_paid"
    SLACK_PAYMENT_REJECTED = "slack_payment_rejected"
    SLACK_PAYOUT_DECLINED = "slack_payout_declined"


class Block(StrEnum):
    """Why an action is not available: the reason codes of `availableTransitions` and of
    INVALID_STATE / FORBIDDEN errors' `extensions.reason`."""

    MISSING_PERMISSION = "MISSING_PERMISSION"
    WRONG_CALLER = "WRONG_CALLER"
    WRONG_STATUS = "WRONG_STATUS"
    PAYOUT_IN_PROGRESS = "PAYOUT_IN_PROGRESS"
    DOCUMENTS_MISSING = "DOCUMENTS_MISSING"
    NOTHING_TO_REVIEW = "NOTHING_TO_REVIEW"
    DOCUMENTS_PENDING = "DOCUMENTS_PENDING"
    NO_PAYOUT_ACCOUNT = "NO_PAYOUT_ACCOUNT"
    CUTOFF_NOT_REACHED = "CUTOFF_NOT_REACHED"
    NOTHING_TO_PAY = "NOTHING_TO_PAY"


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    operation: str | None  # the permission matrix row; None for PayGraph's own moves
    caller: Caller
    sources: frozenset[PaymentStatus]
    target: PaymentStatus | None  # None: the status does not change
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()

    @property
    def permissions(self) -> frozenset[str]:
        return OPERATIONS[self.operation].any_of if self.operation else frozenset()


REVIEWABLE = frozenset(
    {S.PAYMENT_REQUESTED, S.DOCUMENTS_REJECTED, S.UNDER_REVIEW, S.PAYMENT_REJECTED}
)
ELIGIBLE_FOR_PAYOUT = (
    Guard.DOCUMENTS_APPROVED,
    Guard.PAYOUT_ACCOUNT,
    Guard.CUTOFF_REACHED,
    Guard.SOMETHING_TO_PAY,
)

TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(
            Action.REQUEST_PAYMENT,
            "Mutation.requestPartnerPayment",
            Caller.PARTNER_USER,
            frozenset({S.GENERATED}),
            S.PAYMENT_REQUESTED,
            guards=(Guard.DOCUMENTS_UPLOADED,),
        ),
        Transition(
            Action.ADD_DOCUMENT,
            "Mutation.addPaymentDocument",
            Caller.PARTNER_USER,
            frozenset({S.GENERATED, S.PAYMENT_REQUESTED, S.DOCUMENTS_REJECTED, S.PAYMENT_REJECTED}),
            None,
            effects=(Effect.STORE_FILE,),
        ),
        Transition(
            Action.APPROVE_DOCUMENT,
            "Mutation.approvePaymentDocument",
            Caller.STAFF,
            REVIEWABLE,
            S.APPROVED_FOR_PAYMENT,
            guards=(Guard.DOCUMENT_TO_REVIEW,),
            effects=(
                Effect.RECORD_REVIEW,
                Effect.APPROVE_WHEN_COMPLETE,
                Effect.SLACK_APPROVED_FOR_PAYMENT,
            ),
        ),
        Transition(
            Action.REJECT_DOCUMENT,
            "Mutation.rejectPaymentDocument",
            Caller.STAFF,
            REVIEWABLE,
            S.DOCUMENTS_REJECTED,
            guards=(Guard.DOCUMENT_TO_REVIEW,),
            effects=(Effect.RECORD_REVIEW, Effect.EMAIL_DOCUMENT_REJECTED),
        ),
        Transition(
            Action.SEND_TO_INTERNAL_REVIEW,
            "Mutation.sendPaymentToInternalReview",
            Caller.STAFF,
            frozenset(
                {
                    S.PAYMENT_REQUESTED,
                    S.DOCUMENTS_REJECTED,
                    S.APPROVED_FOR_PAYMENT,
                    S.PAYMENT_REJECTED,
                }
            ),
            S.UNDER_REVIEW,
            effects=(Effect.CLEAR_APPROVAL,),
        ),
        # From PAYOUT_IN_PROGRESS, paying resumes the open attempt (commission_payouts).
        Transition(
            Action.PAY,
            "Mutation.payPartnerPayment",
            Caller.STAFF,
            frozenset({S.APPROVED_FOR_PAYMENT, S.PAYOUT_IN_PROGRESS}),
            S.PAYOUT_IN_PROGRESS,
            guards=ELIGIBLE_FOR_PAYOUT,
            effects=(Effect.RECORD_PAYOUT_ATTEMPT, Effect.EXECUTE_PAYOUT),
        ),
        Transition(
            Action.REJECT_PAYMENT,
            "Mutation.rejectPartnerPayment",
            Caller.STAFF,
            frozenset({S.APPROVED_FOR_PAYMENT}),
            S.DOCUMENTS_REJECTED,
            guards=ELIGIBLE_FOR_PAYOUT,
            effects=(
                Effect.CLEAR_APPROVAL,
                Effect.RESET_REVIEWED_DOCUMENTS,
                Effect.SLACK_PAYMENT_REJECTED,
            ),
        ),
        Transition(
            Action.MARK_AS_PAID,
            "Mutation.markPartnerPaymentAsPaid",
            Caller.STAFF,
            frozenset({S.APPROVED_FOR_PAYMENT, S.UNDER_REVIEW, S.PAYMENT_REJECTED}),
            S.MANUALLY_PAID,
            guards=(Guard.SOMETHING_TO_PAY,),
            effects=(Effect.POST_LEDGER, Effect.SLACK_COMMISSIONS_PAID),
        ),
        Transition(
            Action.PAYOUT_PAID,
            None,
            Caller.SYSTEM,
            frozenset({S.PAYOUT_IN_PROGRESS}),
            S.PAID,
            effects=(Effect.POST_LEDGER, Effect.SLACK_COMMISSIONS_PAID),
        ),
        Transition(
            Action.PAYOUT_DECLINED,
            None,
            Caller.SYSTEM,
            frozenset({S.PAYOUT_IN_PROGRESS}),
            S.PAYMENT_REJECTED,
            effects=(Effect.SLACK_PAYOUT_DECLINED,),
        ),
        Transition(
            Action.PAYOUT_FAILED,
            None,
            Caller.SYSTEM,
            frozenset({S.PAYOUT_IN_PROGRESS}),
            S.APPROVED_FOR_PAYMENT,
        ),
    )
}

# What callers can do from the dashboard, in the order its buttons show.
USER_ACTIONS: tuple[Action, ...] = tuple(
    action for action, t in TRANSITIONS.items() if t.caller is not Caller.SYSTEM
)


@dataclass(frozen=True, slots=True)
class CommissionCase:
    """Everything the rules look at: the payment, its documents, and its partner's payout
    account, if one is on file."""

    payment: e.Payment
    documents: Sequence[e.PaymentDocument]
    payout_account: str | None
    declined_payouts: int = 0  # payouts the provider declined before

    @property
    def required_approved(self) -> bool:
        required = [d for d in self.documents if d.required]
        return all(d.status is DocumentStatus.APPROVED for d in required)


def caller_of(principal: Principal) -> Caller:
    if principal.access_scope is AccessScope.PARTNER:
        return Caller.PARTNER_USER
    if principal.access_scope is AccessScope.TENANT and principal.user_id is not None:
        return Caller.STAFF
    return Caller.SYSTEM  # a reseller manager acts for no commission role


def block(case: CommissionCase, action: Action, principal: Principal, today: date) -> Block | None:
    """Why `principal` may not take `action` on the case now, or None when it may."""
    transition = TRANSITIONS[action]
    if transition.operation and not OPERATIONS[transition.operation].allows(principal.permissions):
        return Block.MISSING_PERMISSION
    if caller_of(principal) is not transition.caller:
        return Block.WRONG_CALLER
    if case.payment.kind is not PaymentKind.COMMISSION:
        return Block.WRONG_STATUS
    if case.payment.status not in transition.sources:
        if case.payment.status is S.PAYOUT_IN_PROGRESS:
            return Block.PAYOUT_IN_PROGRESS
        return Block.WRONG_STATUS
    for guard in transition.guards:
        if (reason := _guard_block(case, guard, today)) is not None:
            return reason
    return None


def _guard_block(case: CommissionCase, guard: Guard, today: date) -> Block | None:
    if guard is Guard.DOCUMENTS_UPLOADED:
        required = [d for d in case.documents if d.required]
        if not case.documents or any(d.storage_key is None for d in required):
            return Block.DOCUMENTS_MISSING
    elif guard is Guard.DOCUMENT_TO_REVIEW:
        if not any(d.storage_key is not None for d in case.documents):
            return Block.NOTHING_TO_REVIEW
    elif guard is Guard.DOCUMENTS_APPROVED:
        if not case.required_approved:
            return Block.DOCUMENTS_PENDING
    elif guard is Guard.PAYOUT_ACCOUNT:
        if not case.payout_account:
            return Block.NO_PAYOUT_ACCOUNT
    elif guard is Guard.SOMETHING_TO_PAY:
        if case.payment.amount <= 0:
            return Block.NOTHING_TO_PAY
    elif guard is Guard.CUTOFF_REACHED:
        cutoff = case.payment.cutoff_date
        if cutoff is not None and today < cutoff:
            return Block.CUTOFF_NOT_REACHED
    return None


_VERBS = {
    Action.REQUEST_PAYMENT: "request the payout of",
    Action.ADD_DOCUMENT: "add a document to",
    Action.APPROVE_DOCUMENT: "review documents of",
    Action.REJECT_DOCUMENT: "review documents of",
    Action.SEND_TO_INTERNAL_REVIEW: "send to internal review",
    Action.PAY: "pay",
    Action.REJECT_PAYMENT: "reject",
    Action.MARK_AS_PAID: "mark as paid",
    Action.PAYOUT_PAID: "record the payout of",
    Action.PAYOUT_DECLINED: "decline the payout of",
    Action.PAYOUT_FAILED: "record the failed payout of",
}

_GUARD_MESSAGES = {
    Block.PAYOUT_IN_PROGRESS: "a payout of it is in progress and the provider's answer is "
    "not recorded yet; payPartnerPayment (retried with the same idempotency key) or the "
    "payout reconcile resolves it first",
    Block.DOCUMENTS_MISSING: "every required document must be uploaded first",
    Block.NOTHING_TO_REVIEW: "no document has been uploaded",
    Block.DOCUMENTS_PENDING: "not every required document is approved",
    Block.NO_PAYOUT_ACCOUNT: "the partner has no payout account on file",
    Block.CUTOFF_NOT_REACHED: "the period's cutoff date has not been reached",
    Block.NOTHING_TO_PAY: "its amount is zero, so there is nothing to pay",
}


def require(case: CommissionCase, action: Action, principal: Principal, today: date) -> None:
    """Raise the error that explains why the action is refused, if it is."""
    reason = block(case, action, principal, today)
    if reason is None:
        return
    transition = TRANSITIONS[action]
    payment = case.payment
    verb = _VERBS[action]
    if reason is Block.MISSING_PERMISSION:
        raise Forbidden(
            f"Your permissions do not allow you to {verb} a commission payment.",
            reason=reason.value,
        )
    if reason is Block.WRONG_CALLER:
        who = "the partner's own users" if transition.caller is Caller.PARTNER_USER else "staff"
        raise Forbidden(f"Only {who} can {verb} a commission payment.", reason=reason.value)
    if reason is Block.WRONG_STATUS:
        allowed = ", ".join(sorted(transition.sources))
        raise InvalidState(
            f"Cannot {verb} payment {payment.id}: it is {payment.status.value}; "
            f"allowed only when {allowed}.",
            status=payment.status.value,
            reason=reason.value,
        )
    raise InvalidState(
        f"Cannot {verb} payment {payment.id}: {_GUARD_MESSAGES[reason]}.",
        status=payment.status.value,
        reason=reason.value,
    )


def target_after_review(case: CommissionCase, approved_document_id: int) -> PaymentStatus:
    """The status after approving one document: approved for payment once every required
    document is approved, otherwise unchanged."""
    documents = [
        replace(d, status=DocumentStatus.APPROVED) if d.id == approved_document_id else d
        for d in case.documents
    ]
    complete = all(d.status is DocumentStatus.APPROVED for d in documents if d.required)
    return PaymentStatus.APPROVED_FOR_PAYMENT if complete else case.payment.status


@dataclass(frozen=True, slots=True)
class Availability:
    action: Action
    operation: str
    blocked_by: Block | None

    @property
    def allowed(self) -> bool:
        return self.blocked_by is None


def available(case: CommissionCase, principal: Principal, today: date) -> list[Availability]:
    """Each action a caller can take from the dashboard, allowed or not and why: the
    same checks the mutations run."""
    if case.payment.kind is not PaymentKind.COMMISSION:
        return []
    return [
        Availability(
            action, TRANSITIONS[action].operation or "", block(case, action, principal, today)
        )
        for action in USER_ACTIONS
    ]


_SYSTEM_LABELS = {
    Action.PAYOUT_PAID: "the provider paid",
    Action.PAYOUT_DECLINED: "the provider declined",
    Action.PAYOUT_FAILED: "the provider refused (nothing paid)",
}


def diagram() -> str:
    """The lifecycle as a Mermaid state diagram, drawn from TRANSITIONS (docs/commission-payouts.md
    shows it; a test keeps the two equal)."""
    order = {status: index for index, status in enumerate(PaymentStatus)}
    lines = ["stateDiagram-v2", "    [*] --> generated"]
    for transition in TRANSITIONS.values():
        if transition.target is None:
            continue
        label = (transition.operation or "").partition(".")[2] or _SYSTEM_LABELS[transition.action]
        if Effect.APPROVE_WHEN_COMPLETE in transition.effects:
            label += " (every required document approved)"
        for source in sorted(transition.sources, key=order.__getitem__):
            if source is not transition.target:
                lines.append(f"    {source.value} --> {transition.target.value}: {label}")
    lines += ["    paid --> [*]", "    manually_paid --> [*]"]
    return "\n".join(lines)
