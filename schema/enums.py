"""The domain's enumerations exposed as GraphQL enums (names in UPPER_SNAKE)."""

from __future__ import annotations

import strawberry

from domain import commission, principal, statuses

PaymentKind = strawberry.enum(
    statuses.PaymentKind, description="Which lifecycle a payment follows."
)
PaymentStatus = strawberry.enum(
    statuses.PaymentStatus,
    description=(
        "Status of a payment. Commission payouts: GENERATED .. PAID / MANUALLY_PAID "
        "(PAYOUT_IN_PROGRESS while the payout provider's answer is not recorded); "
        "acquiring: CREATED, PROCESSING, COMPLETED, INVALID, UNDERPAID, ...; reseller: "
        "WAITING_FOR_PAYMENT, EXPIRED, COMPLETED, CANCELLED; invoice: RECORDED, DELETED."
    ),
)
DocumentStatus = strawberry.enum(
    statuses.DocumentStatus, description="Review state of a payment document."
)
InvoiceStatus = strawberry.enum(
    statuses.InvoiceStatus, description="Settlement state of an invoice."
)
PartnerKind = strawberry.enum(statuses.PartnerKind, description="What kind of partner this is.")
UserRole = strawberry.enum(statuses.UserRole, description="What a user is to PayGraph.")
PaymentMethodType = strawberry.enum(
    statuses.PaymentMethodType, description="The family of a payment method."
)
LedgerDirection = strawberry.enum(
    statuses.LedgerDirection, description="Side of a double-entry ledger line."
)
Credential = strawberry.enum(
    principal.Credential,
    description="How the caller authenticated: a bearer JWT or a manager's X-Api-Token.",
)
AccessScope = strawberry.enum(
    principal.AccessScope,
    description=(
        "Which rows the caller sees: the whole TENANT, one PARTNER's (a partner user), or "
        "a RESELLER_TREE (a manager: its reseller and every reseller below it)."
    ),
)
CommissionAction = strawberry.enum(
    commission.Action,
    name="CommissionAction",
    description="An action of the commission payout workflow (document 000).",
)
TransitionBlock = strawberry.enum(
    commission.Block,
    name="TransitionBlock",
    description="Why a workflow action is not available to the viewer right now.",
)
