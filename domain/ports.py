"""Protocols the adapters implement: the loaders behind every relation.

Resolvers depend on these, never on the database package.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol, TypeVar

from domain import entities as e
from domain.aggregates import AggregateKey, Group
from domain.paging import CountKey, ListRequest, Page, ParentPage

K_contra = TypeVar("K_contra", contravariant=True)
V_co = TypeVar("V_co", covariant=True)


class Loader(Protocol[K_contra, V_co]):
    def load(self, key: K_contra) -> Awaitable[V_co]: ...


class CompiledReads(Protocol):
    """Answers a planned root field (domain.read_plan) with one statement that builds
    its JSON; None when it finds no row."""

    async def fetch(self, root: Any) -> Any: ...


class ReadLoaders(Protocol):
    """One fresh set per request; every lookup is batched and tenant-scoped."""

    tenant_by_id: Loader[int, e.Tenant | None]
    payment_by_id: Loader[int, e.Payment | None]
    partner_by_id: Loader[int, e.Partner | None]
    merchant_by_id: Loader[int, e.Merchant | None]
    terminal_by_id: Loader[int, e.Terminal | None]
    company_by_id: Loader[int, e.Company | None]
    user_by_id: Loader[int, e.User | None]
    address_by_id: Loader[int, e.Address | None]
    invoice_by_id: Loader[int, e.Invoice | None]
    payment_method_by_id: Loader[int, e.PaymentMethod | None]
    payment_detail_by_id: Loader[int, e.PaymentDetail | None]
    payment_document_by_id: Loader[int, e.PaymentDocument | None]
    accounting_transaction_by_id: Loader[int, e.AccountingTransaction | None]
    payment_event_by_id: Loader[int, e.PaymentEvent | None]

    details_by_payment: Loader[ParentPage, Page[e.PaymentDetail]]
    documents_by_payment: Loader[ParentPage, Page[e.PaymentDocument]]
    events_by_payment: Loader[ParentPage, Page[e.PaymentEvent]]
    ledger_by_payment: Loader[ParentPage, Page[e.AccountingTransaction]]
    payments_by_invoice: Loader[ParentPage, Page[e.Payment]]
    payments_by_sender: Loader[ParentPage, Page[e.Payment]]
    payments_by_receiver: Loader[ParentPage, Page[e.Payment]]
    payments_by_partner: Loader[ParentPage, Page[e.Payment]]
    payments_by_merchant: Loader[ParentPage, Page[e.Payment]]
    children_by_partner: Loader[ParentPage, Page[e.Partner]]
    merchants_by_partner: Loader[ParentPage, Page[e.Merchant]]
    terminals_by_merchant: Loader[ParentPage, Page[e.Terminal]]

    count_of: Loader[CountKey, int]
    """Row counts of a relation under a parent (None: a root list), matching a filter."""

    aggregate_of: Loader[AggregateKey, Page[Group]]
    """Payment measures of such a list, grouped by some keys, per currency."""

    payments: Loader[ListRequest, Page[e.Payment]]
    invoices: Loader[ListRequest, Page[e.Invoice]]
    addresses: Loader[ListRequest, Page[e.Address]]
    partners: Loader[ListRequest, Page[e.Partner]]
