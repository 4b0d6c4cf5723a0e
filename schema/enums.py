"""The domain's enumerations exposed as GraphQL enums (names in UPPER_SNAKE).

`strawberry.enum` marks the domain's enum class itself as a GraphQL enum (and returns
it), so each name here is the domain's class: resolvers return domain values, and mypy
reads `PaymentKind` as a type, which it cannot when it is `strawberry.enum(...)`'s
result."""

from __future__ import annotations

import strawberry

from domain import commission, principal, statuses

PaymentKind = statuses.PaymentKind
strawberry.enum(PaymentKind, description="Which lifecycle a payment follows.")

PaymentStatus = statuses.PaymentStatus
strawberry.enum(
    PaymentStatus,
    description=(
        "Status of a payment. Commission payouts: GENERATED .. PAID / MANUALLY_PAID "
        "(PAYOUT_IN_PROGRESS while the payout provider's answer is not recorded); "
        "acquiring: CREATED, PROCESSING, COMPLETED, INVALID, UNDERPAID, ...; reseller: "
        "WAITING_FOR_PAYMENT, EXPIRED, COMPLETED, CANCELLED; invoice: RECORDED, DELETED."
    ),
)

DocumentStatus = statuses.DocumentStatus
strawberry.enum(DocumentStatus, description="Review state of a payment document.")

InvoiceStatus = statuses.InvoiceStatus
strawberry.enum(InvoiceStatus, description="Settlement state of an invoice.")

PartnerKind = statuses.PartnerKind
strawberry.enum(PartnerKind, description="What kind of partner this is.")

UserRole = statuses.UserRole
strawberry.enum(UserRole, description="What a user is to PayGraph.")

PaymentMethodType = statuses.PaymentMethodType
strawberry.enum(PaymentMethodType, description="The family of a payment method.")

LedgerDirection = statuses.LedgerDirection
strawberry.enum(LedgerDirection, description="Side of a double-entry ledger line.")

Credential = principal.Credential
strawberry.enum(
    Credential,
    description="How the caller authenticated: a bearer JWT or a manager's X-Api-Token.",
)

AccessScope = principal.AccessScope
strawberry.enum(
    AccessScope,
    description=(
        "Which rows the caller sees: the whole TENANT, one PARTNER's (a partner user), or "
        "a RESELLER_TREE (a manager: its reseller and every reseller below it)."
    ),
)

CommissionAction = commission.Action
strawberry.enum(
    CommissionAction,
    name="CommissionAction",
    description="An action of the commission payout workflow.",
)

TransitionBlock = commission.Block
strawberry.enum(
    TransitionBlock,
    name="TransitionBlock",
    description="Why a workflow action is not available to the viewer right now.",
)
