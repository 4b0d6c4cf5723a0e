"""Which rows a caller may read: its tenant, narrowed to a partner or a reseller tree,
and to the payment kinds its permissions cover.

The database adapter turns a ReadScope into WHERE clauses for every table, so no loader,
count or lookup can forget it.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from domain.permissions import VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from domain.principal import Principal
from domain.statuses import PaymentKind


@dataclass(frozen=True, slots=True)
class ReadScope:
    tenant_id: int
    partner_ids: frozenset[int] | None = None  # None: every partner of the tenant
    payment_kinds: frozenset[PaymentKind] | None = None  # None: every kind

    @property
    def restricted(self) -> bool:
        """Whether rows beyond the tenant check must be filtered."""
        return self.partner_ids is not None or self.payment_kinds is not None

    @property
    def reads_nothing(self) -> bool:
        """A caller without a read permission sees no row at all, however it gets there
        (`viewer.user.partner.merchants` included), only its tenant's name."""
        return self.payment_kinds is not None and not self.payment_kinds

    @classmethod
    def of(cls, principal: Principal) -> ReadScope:
        return cls(
            tenant_id=principal.tenant_id,
            partner_ids=principal.partner_scope,
            payment_kinds=visible_payment_kinds(principal.permissions),
        )


def visible_payment_kinds(permissions: Set[str]) -> frozenset[PaymentKind] | None:
    """`view-payments` reads every kind; the commission payouts API's `view-partner-payments` reads
    partner commission payments only; neither reads none."""
    if VIEW_PAYMENTS in permissions:
        return None
    if VIEW_PARTNER_PAYMENTS in permissions:
        return frozenset({PaymentKind.COMMISSION})
    return frozenset()
