"""Tenants built to probe scopes: two sibling partners sharing an invoice and addresses,
and a reseller tree with a manager in the middle of it."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from typing import Any

from db import models as m
from tests.factories import Factory, unique


@dataclass
class PaymentRows:
    """One payment and the ids of every row hanging off it."""

    payment: int
    detail: int
    document: int
    event: int
    ledger: int

    def rows(self) -> dict[str, int]:
        return {
            "Payment": self.payment,
            "PaymentDetail": self.detail,
            "PaymentDocument": self.document,
            "PaymentEvent": self.event,
            "AccountingTransaction": self.ledger,
        }


async def payment_with_parts(f: Factory, tenant: int, **values: Any) -> PaymentRows:
    payment = await f.payment(tenant, **values)
    detail = await f.insert(
        m.PaymentDetail,
        tenant_id=tenant,
        payment_id=payment,
        carrier="DHL",
        amount=100,
        currency="USD",
    )
    document = await f.insert(
        m.PaymentDocument, tenant_id=tenant, payment_id=payment, document_type="invoice"
    )
    event = await f.insert(
        m.PaymentEvent, tenant_id=tenant, payment_id=payment, actor_label="Admin", action="create"
    )
    ledger = await f.insert(
        m.AccountingTransaction,
        tenant_id=tenant,
        payment_id=payment,
        posting_id=unique("posting-"),
        account_code="cash",
        direction="debit",
        amount=100,
        currency="USD",
    )
    return PaymentRows(payment, detail, document, event, ledger)


async def address(f: Factory, tenant: int, name: str) -> int:
    return await f.insert(
        m.Address, tenant_id=tenant, name=name, line1="1 Main St", city="Austin", country_code="US"
    )


@dataclass
class SiblingPartners:
    """Partners `mine` and `theirs` under one parent. Each has an invoice payment against
    the shared invoice, from the shared sender to the shared receiver, and a commission
    payment; `theirs` also has an invoice and addresses of its own."""

    tenant_id: int
    admin_id: int
    mine: int
    theirs: int
    mine_user: int
    shared_invoice: int
    their_invoice: int
    sender: int
    receiver: int
    their_sender: int
    my_payments: list[PaymentRows] = field(default_factory=list)
    their_payments: list[PaymentRows] = field(default_factory=list)


@dataclass(frozen=True)
class Siblings:
    """A tenant and its admin, partners `mine` and `theirs` under one parent, and a
    partner user of `mine`."""

    tenant_id: int
    admin_id: int
    mine: int
    theirs: int
    mine_user: int


async def siblings(f: Factory) -> Siblings:
    tenant = await f.tenant()
    admin = await f.user(tenant)
    parent = await f.partner(tenant, kind="isv")
    mine = await f.partner(tenant, parent_id=parent, kind="var")
    theirs = await f.partner(tenant, parent_id=parent, kind="var")
    mine_user = await f.user(tenant, role="partner", partner_id=mine)
    return Siblings(tenant, admin, mine, theirs, mine_user)


async def sibling_partners(f: Factory) -> SiblingPartners:
    tenant, admin, mine, theirs, mine_user = astuple(await siblings(f))
    await f.user(tenant, role="partner", partner_id=theirs)
    sender = await address(f, tenant, "Shared sender")
    receiver = await address(f, tenant, "Shared receiver")
    their_sender = await address(f, tenant, "Their sender")
    shared_invoice = await f.invoice(tenant, total_amount=1_000)
    their_invoice = await f.invoice(tenant, total_amount=1_000)
    graph = SiblingPartners(
        tenant, admin, mine, theirs, mine_user, shared_invoice, their_invoice, sender, receiver,
        their_sender,
    )  # fmt: skip
    for partner, payments in ((mine, graph.my_payments), (theirs, graph.their_payments)):
        shared = {"invoice_id": shared_invoice, "sender_id": sender, "receiver_id": receiver}
        payments.append(await payment_with_parts(f, tenant, partner_id=partner, **shared))
        payments.append(
            await payment_with_parts(
                f, tenant, partner_id=partner, kind="commission", status="generated"
            )
        )
    graph.their_payments.append(
        await payment_with_parts(
            f, tenant, partner_id=theirs, invoice_id=their_invoice, sender_id=their_sender
        )
    )
    return graph


@dataclass
class ResellerTree:
    """parent -> own -> child -> grandchild, and a sibling of `own` under `parent`; one
    reseller payment (with its parts) per reseller. The manager works for `own`."""

    tenant_id: int
    parent: int
    own: int
    child: int
    grandchild: int
    sibling: int
    payments: dict[str, PaymentRows] = field(default_factory=dict)

    def reseller(self, name: str) -> int:
        return int(getattr(self, name))


async def reseller_tree(f: Factory) -> ResellerTree:
    tenant = await f.tenant()
    parent = await f.partner(tenant)
    own = await f.partner(tenant, parent_id=parent)
    child = await f.partner(tenant, parent_id=own)
    grandchild = await f.partner(tenant, parent_id=child)
    sibling = await f.partner(tenant, parent_id=parent)
    tree = ResellerTree(tenant, parent, own, child, grandchild, sibling)
    for name in ("parent", "own", "child", "grandchild", "sibling"):
        tree.payments[name] = await payment_with_parts(
            f,
            tenant,
            kind="reseller",
            status="waiting_for_payment",
            partner_id=tree.reseller(name),
            document_number=unique("DOC"),
        )
    return tree
