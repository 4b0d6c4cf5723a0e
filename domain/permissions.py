"""Permission names. Document 000's three, plus PayGraph's own for the other areas."""

from __future__ import annotations

VIEW_PARTNER_PAYMENTS = "view-partner-payments"
PAY_PARTNERS_PAYMENTS = "pay-partners-payments"
MARK_PARTNER_PAYMENTS_PAID = "partners-payments-mark-as-a-paid"
VIEW_PAYMENTS = "view-payments"
MANAGE_PAYMENTS = "manage-payments"
AUTHORIZE_PAYMENTS = "authorize-payments"
COMPLETE_PAYMENTS = "complete-payments"
VIEW_STATEMENTS = "view-statements"

ALL_PERMISSIONS: frozenset[str] = frozenset(
    {
        VIEW_PARTNER_PAYMENTS,
        PAY_PARTNERS_PAYMENTS,
        MARK_PARTNER_PAYMENTS_PAID,
        VIEW_PAYMENTS,
        MANAGE_PAYMENTS,
        AUTHORIZE_PAYMENTS,
        COMPLETE_PAYMENTS,
        VIEW_STATEMENTS,
    }
)
