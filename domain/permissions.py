"""Permission names and the permission matrix: which permission each operation needs.

The commission payouts API's three names and its per-endpoint table are kept exactly as
written there (approving a document needs only `view-partner-payments`; rejecting one needs
`pay-partners-payments`). PayGraph's own names cover the other areas. The GraphQL edge
refuses to start if a root field has no row here, so no operation can go unguarded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import Forbidden
from domain.principal import Principal

VIEW_PARTNER_PAYMENTS = "view-partner-payments"
PAY_PARTNERS_PAYMENTS = "pay-partners-payments"
MARK_PARTNER_PAYMENTS_PAID = "partners-payments-mark-as-a-paid"
VIEW_PAYMENTS = "view-payments"
MANAGE_PAYMENTS = "manage-payments"
AUTHORIZE_PAYMENTS = "authorize-payments"
COMPLETE_PAYMENTS = "complete-payments"
# PayGraph's own: a partner user submitting its commission payout and its documents.
REQUEST_PARTNER_PAYMENTS = "request-partner-payments"

ALL_PERMISSIONS: frozenset[str] = frozenset(
    {
        VIEW_PARTNER_PAYMENTS,
        PAY_PARTNERS_PAYMENTS,
        MARK_PARTNER_PAYMENTS_PAID,
        VIEW_PAYMENTS,
        MANAGE_PAYMENTS,
        AUTHORIZE_PAYMENTS,
        COMPLETE_PAYMENTS,
        REQUEST_PARTNER_PAYMENTS,
    }
)

# Reading payments: either name; the read scope then narrows `view-partner-payments`
# to commission payments (domain.access).
READ = frozenset({VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS})


@dataclass(frozen=True, slots=True)
class Rule:
    """An operation is allowed with any one of `any_of`; an empty set allows any
    authenticated caller."""

    any_of: frozenset[str]
    source: str

    def allows(self, permissions: frozenset[str]) -> bool:
        return not self.any_of or not self.any_of.isdisjoint(permissions)


def _rule(source: str, *names: str) -> Rule:
    return Rule(frozenset(names), source)


def _read(source: str) -> Rule:
    return Rule(READ, source)


# "<root type>.<field>" -> Rule. Rows for operations that later work adds are fixed
# here already, so the matrix is reviewed in one place.
OPERATIONS: Mapping[str, Rule] = {
    "Query.viewer": _rule("PayGraph: who is calling"),
    "Query.node": _read("PayGraph: any object by global ID"),
    "Query.payment": _read(
        "commission payouts: GET /partner-payments; invoice payments: GET /payments/{id}"
    ),
    "Query.payments": _read(
        "commission payouts: GET /partner-payments; invoice payments: GET /payments"
    ),
    "Query.invoice": _read("invoice payments: GET /invoices/{id}"),
    "Query.invoices": _read("invoice payments: invoices"),
    "Query.address": _read("invoice payments: addresses"),
    "Query.addresses": _read("invoice payments: addresses"),
    "Query.partner": _read("partner portfolio: GET /partners/{id}/payments"),
    "Query.partners": _read("partner portfolio: partners"),
    "Query.partnerPayments": _rule(
        "commission payouts: GET /partner-payments", VIEW_PARTNER_PAYMENTS
    ),
    "Query.reseller": _read("reseller completion: resellers"),
    "Query.accountingTransactions": _read("invoice payments: GET /accounting_transactions"),
    "Mutation.requestPartnerPayment": _rule(
        "PayGraph: a partner user requests its commission payout (commission payouts: generated -> "
        "payment_requested)",
        REQUEST_PARTNER_PAYMENTS,
    ),
    "Mutation.addPaymentDocument": _rule(
        "PayGraph: a partner user uploads a document for review (commission payouts: documents)",
        REQUEST_PARTNER_PAYMENTS,
    ),
    "Mutation.approvePaymentDocument": _rule(
        "commission payouts: PATCH /partner-payments/{paymentId}/documents/{documentId}/approve",
        VIEW_PARTNER_PAYMENTS,
    ),
    "Mutation.rejectPaymentDocument": _rule(
        "commission payouts: PATCH /partner-payments/{paymentId}/documents/{documentId}/reject",
        PAY_PARTNERS_PAYMENTS,
    ),
    "Mutation.payPartnerPayment": _rule(
        "commission payouts: PUT /partner-payments/{id}/pay", PAY_PARTNERS_PAYMENTS
    ),
    "Mutation.rejectPartnerPayment": _rule(
        "commission payouts: PUT /partner-payments/{id}/reject", PAY_PARTNERS_PAYMENTS
    ),
    "Mutation.markPartnerPaymentAsPaid": _rule(
        "commission payouts: PATCH /partner-payments/{id}/mark-as-paid", MARK_PARTNER_PAYMENTS_PAID
    ),
    "Mutation.sendPaymentToInternalReview": _rule(
        "commission payouts: PATCH /partner-payments/{id}/send-to-internal-review",
        PAY_PARTNERS_PAYMENTS,
    ),
    "Mutation.completePayment": _rule(
        "reseller completion: POST /resellers/{reseller_id}/payments/{document_id}",
        COMPLETE_PAYMENTS,
    ),
    "Mutation.completePaymentById": _rule(
        "reseller completion: complete payment by ID", COMPLETE_PAYMENTS
    ),
    "Mutation.createPayment": _rule("invoice payments: POST /payments", MANAGE_PAYMENTS),
    "Mutation.createInvoicePayment": _rule(
        "invoice payments: POST /invoices/{id}/payments", MANAGE_PAYMENTS
    ),
    "Mutation.updatePayment": _rule("invoice payments: PATCH /payments/{id}", MANAGE_PAYMENTS),
    "Mutation.deletePayment": _rule("invoice payments: DELETE /payments/{id}", MANAGE_PAYMENTS),
    "Mutation.authorizePayment": _rule("invoice payments: authorized flag", AUTHORIZE_PAYMENTS),
    "Subscription.paymentChanged": _read("PayGraph: payments as they change, over websockets"),
    "Subscription.paymentEvents": _read("PayGraph: a payment's audit trail as it grows"),
}


def allows(principal: Principal, operation: str) -> bool:
    """Whether the principal may run `operation` (unknown operations: never)."""
    rule = OPERATIONS.get(operation)
    return rule is not None and rule.allows(principal.permissions)


def authorize(principal: Principal, operation: str) -> None:
    """Raise FORBIDDEN unless the principal may run `operation`; unknown operations are
    refused (fail closed)."""
    rule = OPERATIONS.get(operation)
    if rule is None:
        raise Forbidden(f"{operation} is not open to any caller.")
    if not rule.allows(principal.permissions):
        needed = " or ".join(sorted(rule.any_of))
        raise Forbidden(f"{operation.partition('.')[2]} needs the permission {needed}.")
