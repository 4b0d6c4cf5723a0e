"""The read catalog: every table the graph reads and every relation between them,
declared once, as typed constants.

Everything else is derived from these declarations: db.loaders builds each entry's
per-request loader (named after the entry, e.g. `invoice_by_id`) and db.compiled_reads
its SQL; domain.ports.ReadLoaders hands out the loader of an entry (`loaders.of(entry)`);
the schema's `to_one`, `child_connection` and `root_connection` take the entry, which
schema.speedups.prefetch and schema.compiled_plan then read off the field;
resolvers.nodes finds the lookup behind a global ID here.

Adding a relation is one declaration here and one line in the schema type, e.g. a
to-one relation

    TERMINAL_OF_DETAIL = ToOne(PAYMENT_DETAIL, "terminal_id", TERMINAL_BY_ID)
    # schema/types/payment_parts.py, class PaymentDetail:
    terminal = to_one(TERMINAL_OF_DETAIL, Terminal, "The terminal of this row.")

or a paged list of children (filtered and sorted as domain.listings says of its type)

    PAYMENTS_OF_COMPANY = ToMany("payments_by_company", COMPANY, "company_id", PAYMENT)
    # schema/types/parties.py, class Company:
    payments = child_connection(PAYMENTS_OF_COMPANY, PaymentRef, "The company's payments.")
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from domain import entities as e
from domain.statuses import PaymentStatus

T = TypeVar("T")
D = TypeVar("D")


@dataclass(frozen=True, slots=True)
class Table(Generic[T]):
    """A table the graph reads; each row is read as an `entity`."""

    type_name: str  # what the graph calls its rows (domain.listings keys them by it)
    name: str  # the table in the database
    entity: type[T]
    node: bool = True  # whether a global ID may name its rows (`node(id)`)


@dataclass(frozen=True, slots=True)
class ById(Generic[T]):
    """A table's rows by id, through the loader `name`: batched per request, and a row
    the caller may not see is not found."""

    name: str
    table: Table[T]


@dataclass(frozen=True, slots=True)
class ToOne(Generic[T]):
    """The row a `parent` row names in its `key` attribute, found through `lookup`;
    none when the key is null or the row is not found."""

    parent: Table[Any]
    key: str
    lookup: ById[T]

    @property
    def name(self) -> str:
        """The loader's name: the lookup's."""
        return self.lookup.name

    @property
    def target(self) -> Table[T]:
        return self.lookup.table


@dataclass(frozen=True, slots=True)
class ToMany(Generic[T]):
    """A `parent` row's children, paged through the loader `name`: the `target` rows
    whose `foreign_key` holds the parent's id, except those whose status is one of
    `excluded_statuses`, whatever the request's filter (they are not in the relation)."""

    name: str
    parent: Table[Any]
    foreign_key: str
    target: Table[T]
    excluded_statuses: tuple[Enum, ...] = ()


@dataclass(frozen=True, slots=True)
class RootList(Generic[T]):
    """Every row of `table` the caller may see, paged through the loader `name`."""

    name: str
    table: Table[T]


# Tables ---------------------------------------------------------------------------------

TENANT = Table("Tenant", "tenant", e.Tenant, node=False)
PARTNER = Table("Partner", "partner", e.Partner)
MERCHANT = Table("Merchant", "merchant", e.Merchant)
TERMINAL = Table("Terminal", "terminal", e.Terminal)
COMPANY = Table("Company", "company", e.Company)
USER = Table("User", "user_account", e.User)
ACCOUNT = Table("Account", "account", e.Account)
ADDRESS = Table("Address", "address", e.Address)
PAYMENT_METHOD = Table("PaymentMethod", "payment_method", e.PaymentMethod)
INVOICE = Table("Invoice", "invoice", e.Invoice)
FX_RATE = Table("FxRate", "fx_rate", e.FxRate, node=False)
PAYMENT = Table("Payment", "payment", e.Payment)
PAYMENT_DETAIL = Table("PaymentDetail", "payment_detail", e.PaymentDetail)
PAYMENT_DOCUMENT = Table("PaymentDocument", "payment_document", e.PaymentDocument)
ACCOUNTING_TRANSACTION = Table(
    "AccountingTransaction", "accounting_transaction", e.AccountingTransaction
)
PAYMENT_EVENT = Table("PaymentEvent", "payment_event", e.PaymentEvent)

# Rows by id -----------------------------------------------------------------------------

TENANT_BY_ID = ById("tenant_by_id", TENANT)
PARTNER_BY_ID = ById("partner_by_id", PARTNER)
MERCHANT_BY_ID = ById("merchant_by_id", MERCHANT)
TERMINAL_BY_ID = ById("terminal_by_id", TERMINAL)
COMPANY_BY_ID = ById("company_by_id", COMPANY)
USER_BY_ID = ById("user_by_id", USER)
ACCOUNT_BY_ID = ById("account_by_id", ACCOUNT)
ADDRESS_BY_ID = ById("address_by_id", ADDRESS)
PAYMENT_METHOD_BY_ID = ById("payment_method_by_id", PAYMENT_METHOD)
INVOICE_BY_ID = ById("invoice_by_id", INVOICE)
FX_RATE_BY_ID = ById("fx_rate_by_id", FX_RATE)
PAYMENT_BY_ID = ById("payment_by_id", PAYMENT)
PAYMENT_DETAIL_BY_ID = ById("payment_detail_by_id", PAYMENT_DETAIL)
PAYMENT_DOCUMENT_BY_ID = ById("payment_document_by_id", PAYMENT_DOCUMENT)
ACCOUNTING_TRANSACTION_BY_ID = ById("accounting_transaction_by_id", ACCOUNTING_TRANSACTION)
PAYMENT_EVENT_BY_ID = ById("payment_event_by_id", PAYMENT_EVENT)

# To-one relations -----------------------------------------------------------------------

INVOICE_OF_PAYMENT = ToOne(PAYMENT, "invoice_id", INVOICE_BY_ID)
ACCOUNT_OF_PAYMENT = ToOne(PAYMENT, "account_id", ACCOUNT_BY_ID)
FX_RATE_OF_PAYMENT = ToOne(PAYMENT, "fx_rate_id", FX_RATE_BY_ID)
FX_RATE_FROM_BASE_OF_PAYMENT = ToOne(PAYMENT, "fx_rate_from_base_id", FX_RATE_BY_ID)
SENDER_OF_PAYMENT = ToOne(PAYMENT, "sender_id", ADDRESS_BY_ID)
RECEIVER_OF_PAYMENT = ToOne(PAYMENT, "receiver_id", ADDRESS_BY_ID)
PARTNER_OF_PAYMENT = ToOne(PAYMENT, "partner_id", PARTNER_BY_ID)
MERCHANT_OF_PAYMENT = ToOne(PAYMENT, "merchant_id", MERCHANT_BY_ID)
TERMINAL_OF_PAYMENT = ToOne(PAYMENT, "terminal_id", TERMINAL_BY_ID)
COMPANY_OF_PAYMENT = ToOne(PAYMENT, "company_id", COMPANY_BY_ID)
PAYMENT_METHOD_OF_PAYMENT = ToOne(PAYMENT, "payment_method_id", PAYMENT_METHOD_BY_ID)
AUTHORIZER_OF_PAYMENT = ToOne(PAYMENT, "authorized_by_id", USER_BY_ID)
USER_OF_PAYMENT = ToOne(PAYMENT, "user_id", USER_BY_ID)
MANAGER_OF_PAYMENT = ToOne(PAYMENT, "manager_id", USER_BY_ID)
PAYMENT_OF_DETAIL = ToOne(PAYMENT_DETAIL, "payment_id", PAYMENT_BY_ID)
PARTNER_OF_DETAIL = ToOne(PAYMENT_DETAIL, "partner_id", PARTNER_BY_ID)
PAYMENT_OF_DOCUMENT = ToOne(PAYMENT_DOCUMENT, "payment_id", PAYMENT_BY_ID)
REVIEWER_OF_DOCUMENT = ToOne(PAYMENT_DOCUMENT, "reviewed_by_id", USER_BY_ID)
PAYMENT_OF_LEDGER_LINE = ToOne(ACCOUNTING_TRANSACTION, "payment_id", PAYMENT_BY_ID)
ACTOR_OF_EVENT = ToOne(PAYMENT_EVENT, "actor_id", USER_BY_ID)
PARENT_OF_PARTNER = ToOne(PARTNER, "parent_id", PARTNER_BY_ID)
PARTNER_OF_MERCHANT = ToOne(MERCHANT, "partner_id", PARTNER_BY_ID)
MERCHANT_OF_TERMINAL = ToOne(TERMINAL, "merchant_id", MERCHANT_BY_ID)
PARTNER_OF_USER = ToOne(USER, "partner_id", PARTNER_BY_ID)
COMPANY_OF_USER = ToOne(USER, "company_id", COMPANY_BY_ID)
RESELLER_OF_ACCOUNT = ToOne(ACCOUNT, "reseller_id", PARTNER_BY_ID)
COMPANY_OF_ADDRESS = ToOne(ADDRESS, "company_id", COMPANY_BY_ID)
SENDER_OF_INVOICE = ToOne(INVOICE, "sender_id", ADDRESS_BY_ID)
RECEIVER_OF_INVOICE = ToOne(INVOICE, "receiver_id", ADDRESS_BY_ID)
COMPANY_OF_INVOICE = ToOne(INVOICE, "company_id", COMPANY_BY_ID)

# Paged children -------------------------------------------------------------------------

DETAILS_OF_PAYMENT = ToMany("details_by_payment", PAYMENT, "payment_id", PAYMENT_DETAIL)
DOCUMENTS_OF_PAYMENT = ToMany("documents_by_payment", PAYMENT, "payment_id", PAYMENT_DOCUMENT)
EVENTS_OF_PAYMENT = ToMany("events_by_payment", PAYMENT, "payment_id", PAYMENT_EVENT)
LEDGER_OF_PAYMENT = ToMany("ledger_by_payment", PAYMENT, "payment_id", ACCOUNTING_TRANSACTION)
LEDGER_OF_INVOICE = ToMany("ledger_by_invoice", INVOICE, "invoice_id", ACCOUNTING_TRANSACTION)
ACCOUNTS_OF_RESELLER = ToMany("accounts_by_reseller", PARTNER, "reseller_id", ACCOUNT)
# An invoice's payments are its live ones: a deleted payment no longer counts towards
# what it was paid.
PAYMENTS_OF_INVOICE = ToMany(
    "payments_by_invoice",
    INVOICE,
    "invoice_id",
    PAYMENT,
    excluded_statuses=(PaymentStatus.DELETED,),
)
PAYMENTS_OF_SENDER = ToMany("payments_by_sender", ADDRESS, "sender_id", PAYMENT)
PAYMENTS_OF_RECEIVER = ToMany("payments_by_receiver", ADDRESS, "receiver_id", PAYMENT)
PAYMENTS_OF_PARTNER = ToMany("payments_by_partner", PARTNER, "partner_id", PAYMENT)
PAYMENTS_OF_MERCHANT = ToMany("payments_by_merchant", MERCHANT, "merchant_id", PAYMENT)
CHILDREN_OF_PARTNER = ToMany("children_by_partner", PARTNER, "parent_id", PARTNER)
MERCHANTS_OF_PARTNER = ToMany("merchants_by_partner", PARTNER, "partner_id", MERCHANT)
TERMINALS_OF_MERCHANT = ToMany("terminals_by_merchant", MERCHANT, "merchant_id", TERMINAL)

# Root lists -----------------------------------------------------------------------------

PAYMENTS = RootList("payments", PAYMENT)
INVOICES = RootList("invoices", INVOICE)
ADDRESSES = RootList("addresses", ADDRESS)
PARTNERS = RootList("partners", PARTNER)
ACCOUNTING_TRANSACTIONS = RootList("accounting_transactions", ACCOUNTING_TRANSACTION)


def _declared(kind: type[D]) -> tuple[D, ...]:
    """Every entry of this module of one kind, in the order declared above."""
    return tuple(value for value in globals().values() if isinstance(value, kind))


TABLES: tuple[Table[Any], ...] = _declared(Table)
LOOKUPS: tuple[ById[Any], ...] = _declared(ById)
TO_ONE: tuple[ToOne[Any], ...] = _declared(ToOne)
TO_MANY: tuple[ToMany[Any], ...] = _declared(ToMany)
ROOT_LISTS: tuple[RootList[Any], ...] = _declared(RootList)
