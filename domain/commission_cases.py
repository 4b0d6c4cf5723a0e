"""Loading a commission case in a unit of work: the payment (locked until the
transaction ends), its documents, its partner's payout account and who hears about it.
The workflow's mutations and the payouts (paying, resolving, reconciling) share it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.access import ReadScope
from domain.commission import CommissionCase
from domain.errors import NotFound
from domain.notifications import Audience
from domain.principal import Principal
from domain.statuses import PaymentKind
from domain.writes import UnitOfWork

COMMISSIONS = frozenset({PaymentKind.COMMISSION})


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    slack_channel: str | None = None
    rejection_mentions: Sequence[str] = ()


def write_scope(principal: Principal) -> ReadScope:
    """Commission mutations reach the caller's tenant and partner scope, commission
    payments only, whatever the caller may read."""
    return ReadScope(
        tenant_id=principal.tenant_id,
        partner_ids=principal.partner_scope,
        payment_kinds=COMMISSIONS,
    )


def tenant_scope(tenant_id: int) -> ReadScope:
    """PayGraph's own scope for a tenant's commissions (recording a provider's answer)."""
    return ReadScope(tenant_id=tenant_id, payment_kinds=COMMISSIONS)


async def load_case(
    uow: UnitOfWork, payment_id: int, notifications: NotificationSettings
) -> tuple[CommissionCase, Audience]:
    records = uow.commission
    payment = await records.payment_for_update(payment_id)
    if payment is None:
        raise NotFound(f"Commission payment {payment_id} not found.", field="id")
    documents = await records.documents(payment_id)
    partner = await records.partner(payment.partner_id) if payment.partner_id else None
    payee = await records.user(payment.user_id) if payment.user_id else None
    audience = Audience(
        partner_name=partner.name if partner else "(no partner)",
        payee=payee,
        slack_channel=notifications.slack_channel,
        rejection_mentions=tuple(notifications.rejection_mentions),
    )
    case = CommissionCase(
        payment,
        documents,
        partner.payout_account if partner else None,
        declined_payouts=await records.declined_payouts(payment_id),
    )
    return case, audience
