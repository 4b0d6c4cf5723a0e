"""What each commission action changes, as data: the payment's new values, the
documents' new values, the audit event, the ledger posting and the notifications. Pure
functions of the case; the workflow writes an Outcome in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from domain import notifications as n
from domain.commission import TRANSITIONS, Action, CommissionCase, target_after_review
from domain.date_bounds import payment_moment_problem
from domain.errors import BadUserInput, InvalidState, NotFound
from domain.ledger import Posting, transfer
from domain.outcomes import Actor, DocumentChange, NewDocument, Outcome
from domain.payouts import PayoutReceipt
from domain.statuses import DocumentStatus, PaymentStatus
from domain.storage import StoredFile
from domain.uploads import check_content_type

# Ledger accounts a commission payout moves between.
COMMISSION_EXPENSE = "commission_expense"
PAYOUT_CLEARING = "payout_clearing"  # what the payout provider settles
MANUAL_PAYOUTS = "manual_payouts"  # paid outside PayGraph (mark as paid)

MAX_TEXT = 2000
DOCUMENT_TYPES = ("invoice", "tax_certificate", "bank_statement")


def _outcome(
    case: CommissionCase,
    action: Action,
    to: PaymentStatus,
    *,
    changes: Mapping[str, object] | None = None,
    comments: str | None = None,
    document_changes: tuple[DocumentChange, ...] = (),
    new_document: NewDocument | None = None,
    posting: Posting | None = None,
    notifications: tuple[n.Notification, ...] = (),
) -> Outcome:
    values = dict(changes or {})
    if to is not case.payment.status:
        values["status"] = to
    return Outcome(
        action,
        case.payment.status,
        to,
        values,
        comments,
        document_changes,
        new_document,
        posting,
        notifications,
    )


def text_argument(value: str | None, field: str, *, required: bool) -> str | None:
    """Trimmed free text; blank counts as missing."""
    text = (value or "").strip()
    if not text:
        if required:
            raise BadUserInput(f"{field} is required and must not be blank.", field=field)
        return None
    if len(text) > MAX_TEXT:
        raise BadUserInput(f"{field} must be at most {MAX_TEXT} characters.", field=field)
    return text


def request_payment(case: CommissionCase) -> Outcome:
    return _outcome(case, Action.REQUEST_PAYMENT, PaymentStatus.PAYMENT_REQUESTED)


def check_document_type(document_type: str) -> None:
    if document_type not in DOCUMENT_TYPES:
        raise BadUserInput(
            f"Unknown document type {document_type!r}; use one of {', '.join(DOCUMENT_TYPES)}.",
            field="documentType",
        )


def add_document(case: CommissionCase, document_type: str, stored: StoredFile) -> Outcome:
    """A new upload replaces the file of the same type's document unless that one is
    approved; a type seen for the first time is a new required document."""
    check_document_type(document_type)
    check_content_type(stored.content_type)
    if stored.size_bytes == 0:
        raise BadUserInput("The uploaded file is empty.", field="file")
    same_type = [d for d in case.documents if d.document_type == document_type]
    if any(d.status is DocumentStatus.APPROVED for d in same_type):
        raise InvalidState(
            f"The {document_type} of payment {case.payment.id} is already approved.",
            status=case.payment.status.value,
            reason="DOCUMENT_APPROVED",
        )
    comments = (
        f"{document_type}: {stored.file_name} ({stored.content_type}, {stored.size_bytes} bytes)"
    )
    status = case.payment.status
    if same_type:
        file_values = {
            "file_name": stored.file_name,
            "content_type": stored.content_type,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
            "storage_key": stored.storage_key,
            **_review_cleared(),
        }
        change = DocumentChange(same_type[0].id, file_values)
        return _outcome(
            case, Action.ADD_DOCUMENT, status, comments=comments, document_changes=(change,)
        )
    new = NewDocument(document_type, required=True, stored=stored)
    return _outcome(case, Action.ADD_DOCUMENT, status, comments=comments, new_document=new)


def _document(case: CommissionCase, document_id: int) -> None:
    document = next((d for d in case.documents if d.id == document_id), None)
    if document is None:
        raise NotFound(
            f"Payment {case.payment.id} has no document {document_id}.", field="documentId"
        )
    if document.storage_key is None:
        raise InvalidState(
            f"Document {document_id} has no file to review yet.",
            status=case.payment.status.value,
            reason="NOTHING_TO_REVIEW",
        )


def _review_cleared() -> dict[str, object]:
    return {
        "status": DocumentStatus.PENDING,
        "rejection_reason": None,
        "reviewed_by_id": None,
        "reviewed_at": None,
    }


def approve_document(
    case: CommissionCase, document_id: int, actor: Actor, now: datetime, audience: n.Audience
) -> Outcome:
    _document(case, document_id)
    review = {
        "status": DocumentStatus.APPROVED,
        "rejection_reason": None,
        "reviewed_by_id": actor.user_id,
        "reviewed_at": now,
    }
    target = target_after_review(case, document_id)
    changes: dict[str, object] = {}
    notifications: tuple[n.Notification, ...] = ()
    if target is PaymentStatus.APPROVED_FOR_PAYMENT:
        changes["approved_for_payment_at"] = now
        notifications = (
            n.slack(
                "commission.approved_for_payment",
                "Commission approved for payment",
                case.payment,
                audience,
            ),
        )
    return _outcome(
        case,
        Action.APPROVE_DOCUMENT,
        target,
        changes=changes,
        comments=f"document {document_id} approved",
        document_changes=(DocumentChange(document_id, review),),
        notifications=notifications,
    )


def reject_document(
    case: CommissionCase,
    document_id: int,
    reason: str | None,
    actor: Actor,
    now: datetime,
    audience: n.Audience,
) -> Outcome:
    text = text_argument(reason, "rejectionReason", required=True)
    assert text is not None
    _document(case, document_id)
    document = next(d for d in case.documents if d.id == document_id)
    review = {
        "status": DocumentStatus.REJECTED,
        "rejection_reason": text,
        "reviewed_by_id": actor.user_id,
        "reviewed_at": now,
    }
    notifications: tuple[n.Notification, ...] = ()
    if audience.payee is not None:
        notifications = (
            n.document_rejected_email(audience.payee, case.payment, document.document_type, text),
        )
    return _outcome(
        case,
        Action.REJECT_DOCUMENT,
        PaymentStatus.DOCUMENTS_REJECTED,
        changes={"approved_for_payment_at": None},
        comments=f"{document.document_type} (document {document_id}) rejected: {text}",
        document_changes=(DocumentChange(document_id, review),),
        notifications=notifications,
    )


def send_to_internal_review(case: CommissionCase, comments: str | None) -> Outcome:
    text = text_argument(comments, "comments", required=True)
    return _outcome(
        case,
        Action.SEND_TO_INTERNAL_REVIEW,
        PaymentStatus.UNDER_REVIEW,
        changes={"comments": text, "approved_for_payment_at": None},
        comments=text,
    )


def pay(case: CommissionCase, comments: str | None) -> Outcome:
    """The payout is recorded as an attempt and sent to the provider; the payment waits
    for its answer in PAYOUT_IN_PROGRESS."""
    return _outcome(
        case,
        Action.PAY,
        PaymentStatus.PAYOUT_IN_PROGRESS,
        comments=comments or "payout sent to the provider",
    )


def payout_paid(
    case: CommissionCase,
    comments: str | None,
    receipt: PayoutReceipt,
    now: datetime,
    audience: n.Audience,
) -> Outcome:
    """The provider paid: the payment is paid, posted and announced."""
    _in_progress(case, Action.PAYOUT_PAID)
    payment = case.payment
    posting = transfer(
        payment.requested,
        debit=COMMISSION_EXPENSE,
        credit=PAYOUT_CLEARING,
        description=f"Commission payout {payment.reference or payment.id} "
        f"({receipt.provider} {receipt.payout_id})",
    )
    changes: dict[str, object] = {
        "paid_at": now,
        "payment_date": now.date(),
        "paid_amount": payment.amount,
        "tracking_id": receipt.payout_id,
    }
    if comments:
        changes["comments"] = comments
    return _outcome(
        case,
        Action.PAYOUT_PAID,
        PaymentStatus.PAID,
        changes=changes,
        comments=comments or f"paid by {receipt.provider} ({receipt.payout_id})",
        posting=posting,
        notifications=(n.slack("commission.paid", "Commissions paid", payment, audience),),
    )


def payout_failed(case: CommissionCase, reason: str) -> Outcome:
    """The provider answered that it made no payout: the payment can be paid again (under
    the same payout key) or handled otherwise."""
    _in_progress(case, Action.PAYOUT_FAILED)
    return _outcome(case, Action.PAYOUT_FAILED, PaymentStatus.APPROVED_FOR_PAYMENT, comments=reason)


def _in_progress(case: CommissionCase, action: Action) -> None:
    if case.payment.status not in TRANSITIONS[action].sources:
        raise InvalidState(
            f"Payment {case.payment.id} is {case.payment.status.value}.",
            status=case.payment.status.value,
            reason="WRONG_STATUS",
        )


def reject_payment(case: CommissionCase, comments: str | None, audience: n.Audience) -> Outcome:
    reset = tuple(
        DocumentChange(d.id, _review_cleared())
        for d in case.documents
        if d.status in (DocumentStatus.APPROVED, DocumentStatus.REJECTED)
    )
    note = (
        n.slack(
            "commission.payment_rejected",
            "Commission payment rejected",
            case.payment,
            audience,
            reason=comments or "No reason given.",
            mentions=audience.rejection_mentions,
        ),
    )
    return _outcome(
        case,
        Action.REJECT_PAYMENT,
        PaymentStatus.DOCUMENTS_REJECTED,
        changes={"approved_for_payment_at": None, **({"comments": comments} if comments else {})},
        comments=comments,
        document_changes=reset,
        notifications=note,
    )


def mark_as_paid(
    case: CommissionCase, paid_at: datetime, now: datetime, audience: n.Audience
) -> Outcome:
    if paid_at.tzinfo is None:
        paid_at = paid_at.replace(tzinfo=UTC)  # as every filter reads a moment: UTC
    problem = payment_moment_problem(paid_at, now)
    if problem is not None:
        raise BadUserInput(f"paidAt {problem}.", field="paidAt")
    payment = case.payment
    posting = transfer(
        payment.requested,
        debit=COMMISSION_EXPENSE,
        credit=MANUAL_PAYOUTS,
        description=f"Commission {payment.reference or payment.id} paid outside PayGraph",
    )
    return _outcome(
        case,
        Action.MARK_AS_PAID,
        PaymentStatus.MANUALLY_PAID,
        changes={
            "paid_at": paid_at,
            "payment_date": paid_at.astimezone(UTC).date(),
            "paid_amount": payment.amount,
        },
        comments=f"paid outside PayGraph at {paid_at.isoformat()}",
        posting=posting,
        notifications=(n.slack("commission.paid", "Commissions paid", payment, audience),),
    )


def payout_declined(case: CommissionCase, reason: str, audience: n.Audience) -> Outcome:
    _in_progress(case, Action.PAYOUT_DECLINED)
    note = n.slack(
        "commission.payout_declined",
        "Commission payout declined",
        case.payment,
        audience,
        reason=reason,
    )
    return _outcome(
        case,
        Action.PAYOUT_DECLINED,
        PaymentStatus.PAYMENT_REJECTED,
        changes={"comments": reason, "approved_for_payment_at": None},
        comments=reason,
        notifications=(note,),
    )
