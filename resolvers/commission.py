"""The commission workflow's mutations and `availableTransitions`: read the arguments,
call the workflow with the caller, hand back what it returns."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain import commission
from domain import entities as e
from domain import read_catalog as catalog
from domain.access import visible_payment_kinds
from domain.commission_workflow import AddedDocument, CommissionWorkflow
from domain.idempotent import Settled
from domain.paging import MAX_PAGE_SIZE, Keyset, ListRequest, ParentPage
from domain.statuses import PaymentKind
from resolvers.nodes import row_id
from resolvers.relations import load_related

if TYPE_CHECKING:
    from domain.storage import Readable
    from resolvers.context import Context


def _workflow(context: Context) -> CommissionWorkflow:
    if context.commission is None:
        raise RuntimeError("this context has no commission workflow")
    return context.commission


def _payment_id(given: str, field: str = "id") -> int:
    return row_id("Payment", given, field=field)


async def request_partner_payment(context: Context, id: str) -> e.Payment:
    return await _workflow(context).request_payment(context.principal, _payment_id(id))


async def add_payment_document(
    context: Context,
    payment_id: str,
    document_type: str,
    data: Readable,
    file_name: str,
    content_type: str,
) -> AddedDocument:
    return await _workflow(context).add_document(
        context.principal,
        _payment_id(payment_id, "paymentId"),
        document_type.strip(),
        data,
        file_name=file_name,
        content_type=content_type.split(";")[0].strip().lower(),
    )


async def approve_payment_document(
    context: Context, payment_id: str, document_id: str
) -> e.Payment:
    return await _workflow(context).approve_document(
        context.principal,
        _payment_id(payment_id, "paymentId"),
        row_id("PaymentDocument", document_id, field="documentId"),
    )


async def reject_payment_document(
    context: Context, payment_id: str, document_id: str, rejection_reason: str | None
) -> e.Payment:
    return await _workflow(context).reject_document(
        context.principal,
        _payment_id(payment_id, "paymentId"),
        row_id("PaymentDocument", document_id, field="documentId"),
        rejection_reason,
    )


async def send_to_internal_review(context: Context, id: str, comments: str | None) -> e.Payment:
    return await _workflow(context).send_to_internal_review(
        context.principal, _payment_id(id), comments
    )


async def pay_partner_payment(
    context: Context, id: str, comments: str | None, idempotency_key: str
) -> Settled:
    return await _workflow(context).pay(
        context.principal, _payment_id(id), comments, idempotency_key
    )


async def reject_partner_payment(context: Context, id: str, comments: str | None) -> e.Payment:
    return await _workflow(context).reject_payment(context.principal, _payment_id(id), comments)


async def mark_partner_payment_as_paid(
    context: Context, id: str, paid_at: datetime, idempotency_key: str
) -> Settled:
    return await _workflow(context).mark_as_paid(
        context.principal, _payment_id(id), paid_at, idempotency_key
    )


async def available_transitions(
    context: Context, payment: e.Payment
) -> list[commission.Availability]:
    """What the viewer may do with the payment now, through the request's loaders."""
    if payment.kind is not PaymentKind.COMMISSION or context.commission is None:
        return []
    kinds = visible_payment_kinds(context.principal.permissions)
    if kinds is not None and PaymentKind.COMMISSION not in kinds:
        # A payload's payment, for a caller who may act on it but not read it: the
        # request's loaders would see no documents and no partner.
        return await context.commission.available(context.principal, payment.id)
    every_document = ListRequest(None, window=Keyset(size=MAX_PAGE_SIZE))
    documents = await context.loaders.of(catalog.DOCUMENTS_OF_PAYMENT).load(
        ParentPage(payment.id, every_document)
    )
    partner = await load_related(context, catalog.PARTNER_OF_PAYMENT, payment)
    case = commission.CommissionCase(
        payment, documents.items, partner.payout_account if partner else None
    )
    return commission.available(case, context.principal, context.commission.today())
