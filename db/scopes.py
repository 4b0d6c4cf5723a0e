"""A caller's ReadScope as SQL: the WHERE clause that limits each table to the rows the
caller may see.

Every read statement (id lookups, child pages, root lists, counts and, later, filters and
aggregates) goes through `visible`, so scoping is written once. For a tenant-wide caller
it is only the tenant check. For a partner user or a reseller manager (a partner scope),
or a reader limited to some payment kinds, a payment is visible when its partner and kind
are in scope; what hangs off a payment (details, documents, events, ledger lines) is
visible with it; invoices, addresses and companies are visible when a visible payment
reaches them; partners, merchants, terminals and accounts when they are in the partner
scope; users when they are admins, users of a partner in scope or managers of a reseller
in scope. Payment methods and FX rates are the tenant's reference data; any other table
is unreadable to a scoped caller until it gets a rule here.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Alias, ColumnElement, Select, Table, and_, false, or_, select, true, union

from db import models as m
from db.models.base import table_of
from domain.access import ReadScope
from domain.statuses import UserRole

TENANT = table_of(m.Tenant)
PAYMENT = table_of(m.Payment)
INVOICE = table_of(m.Invoice)
ADDRESS = table_of(m.Address)
MERCHANT = table_of(m.Merchant)
USER = table_of(m.User)
API_TOKEN = table_of(m.ApiToken)


def visible(table: Table | Alias, scope: ReadScope) -> ColumnElement[bool]:
    """The rows of `table` the scope may read. Compiled reads pass an alias of a
    lightweight copy of the table (db.compiled_reads), so tables are told by name."""
    base = table.element if isinstance(table, Alias) else table
    if base.name == TENANT.name:
        return table.c.id == scope.tenant_id
    if scope.reads_nothing:
        return false()
    in_tenant = table.c.tenant_id == scope.tenant_id
    if not scope.restricted or base.name in TENANT_WIDE:
        return in_tenant
    # Fail closed: a table added later is unreadable to scoped callers until it has a rule.
    rule = _RULES.get(base.name)
    return and_(in_tenant, rule(table, scope)) if rule else false()


def _in_partners(column: ColumnElement[int | None], scope: ReadScope) -> ColumnElement[bool]:
    return true() if scope.partner_ids is None else column.in_(sorted(scope.partner_ids))


def _payment_rule(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    kinds = true() if scope.payment_kinds is None else table.c.kind.in_(sorted(scope.payment_kinds))
    return and_(_in_partners(table.c.partner_id, scope), kinds)


def _visible_payments(*columns: str, scope: ReadScope) -> Select[tuple[int]]:
    return select(*(PAYMENT.c[c] for c in columns)).where(visible(PAYMENT, scope))


def _visible_invoice_ids(scope: ReadScope) -> Select[tuple[int]]:
    return _visible_payments("invoice_id", scope=scope)


def _visible_address_ids(scope: ReadScope) -> Select[tuple[int]]:
    invoices = INVOICE.c.id.in_(_visible_invoice_ids(scope))
    return union(
        _visible_payments("sender_id", scope=scope),
        _visible_payments("receiver_id", scope=scope),
        select(INVOICE.c.sender_id).where(invoices),
        select(INVOICE.c.receiver_id).where(invoices),
    )


def _hanging_off_payment(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    return table.c.payment_id.in_(_visible_payments("id", scope=scope))


def _invoice_rule(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    return table.c.id.in_(_visible_invoice_ids(scope))


def _address_rule(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    return table.c.id.in_(_visible_address_ids(scope))


def _company_rule(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    reached = union(
        _visible_payments("company_id", scope=scope),
        select(INVOICE.c.company_id).where(INVOICE.c.id.in_(_visible_invoice_ids(scope))),
        select(ADDRESS.c.company_id).where(ADDRESS.c.id.in_(_visible_address_ids(scope))),
        select(USER.c.company_id).where(visible(USER, scope)),
    )
    return table.c.id.in_(reached)


def _partner_rule(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    return _in_partners(table.c.id, scope)


def _owned_by_partner(column: str) -> Callable[[Table, ReadScope], ColumnElement[bool]]:
    return lambda table, scope: _in_partners(table.c[column], scope)


def _terminal_rule(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    if scope.partner_ids is None:
        return true()
    merchants = select(MERCHANT.c.id).where(visible(MERCHANT, scope))
    return table.c.merchant_id.in_(merchants)


def _user_rule(table: Table, scope: ReadScope) -> ColumnElement[bool]:
    """Admins (who review and authorize), the partners' own users, and the managers of
    resellers in scope; not the managers of other resellers."""
    if scope.partner_ids is None:
        return true()
    managers_in_scope = select(API_TOKEN.c.user_id).where(
        API_TOKEN.c.tenant_id == scope.tenant_id, _in_partners(API_TOKEN.c.reseller_id, scope)
    )
    return or_(
        and_(table.c.role == UserRole.ADMIN.value, table.c.partner_id.is_(None)),
        _in_partners(table.c.partner_id, scope),
        table.c.id.in_(managers_in_scope),
    )


# Reference data every reader of the tenant may see.
TENANT_WIDE = frozenset({"payment_method", "fx_rate"})

_RULES: dict[str, Callable[[Table, ReadScope], ColumnElement[bool]]] = {
    "payment": _payment_rule,
    "payment_detail": _hanging_off_payment,
    "payment_document": _hanging_off_payment,
    "payment_event": _hanging_off_payment,
    "accounting_transaction": _hanging_off_payment,
    "invoice": _invoice_rule,
    "address": _address_rule,
    "company": _company_rule,
    "partner": _partner_rule,
    "merchant": _owned_by_partner("partner_id"),
    "account": _owned_by_partner("reseller_id"),
    "terminal": _terminal_rule,
    "user_account": _user_rule,
}
