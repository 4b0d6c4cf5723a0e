"""`payments` lists checked against a plain-Python oracle, on SQLite and PostgreSQL.

Each example draws a small tenant: three partners (each with a partner user and a
merchant), two admins, companies, payment methods, addresses, invoices and up to 28
payments with tie-heavy values (pools of one to three amounts, dates and moments, two to
four references, many NULLs) and texts over an alphabet holding both cases, the LIKE
wildcards `%` and `_`, the backslash and `/` (SQLAlchemy's LIKE escape character). The
data is realistic the way the scope rules assume it: a payment's user and merchant
belong to its partner and its authorizer is an admin, so every row a visible payment
reaches through a relation is visible to the caller too.

Then it draws list queries: a filter (every scalar field kind of `PaymentFilter` with
every predicate; text searches; ranges; the relations `partner`, `user`,
`authorizedBy`, `invoice`, `sender`, `receiver`, `address`, `merchant`, `company` and
`paymentMethod` with filters of their own; `and` / `or` / `not` nested up to five
levels; ids numeric, global or as integers; amounts as integers or strings; moments in
`Z`, another offset or none), zero to three sort keys and a page size of one to seven.
For an admin and for a partner user of the first partner (with `view-payments`,
`view-partner-payments` or both), the oracle evaluates the filter over the rows the
caller may see (a predicate on NULL is false, `not` is the exact complement) and orders
them by the sort keys, NULL greatest, then `id` ascending.

The properties: walking every page forward (`first` / `after: endCursor`) and every
page backward (`last` / `before: startCursor`) returns each of the oracle's rows once,
in the oracle's order, page by page, with exact `hasNextPage` / `hasPreviousPage`,
`totalCount` and `meta`, and one cursor per row; from any row's cursor, `after`,
`before` or both return the oracle's slice, under another filter the rows past that
position, and under another order a refusal; one page of 200 rows holds exactly the
oracle's list for many more filters; and numbered pages (`page` / `perPage`) cut the
same list into the same slices. Fixed scenarios pin LIKE escaping and case, cursor
refusals across orders, and walks decided by the `id` alone.

Texts (kinds, statuses, currencies, references) sort in the database's collation, which
PostgreSQL takes from its locale: the oracle learns it by asking the database to sort
the example's distinct texts, and compares everything else itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from sqlalchemy import String, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.permissions import VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from domain.principal import Credential, Principal
from domain.statuses import (
    STATUSES_BY_KIND,
    InvoiceStatus,
    PartnerKind,
    PaymentKind,
    PaymentMethodType,
    PaymentStatus,
    UserRole,
)
from tests.factories import BASE_TIME, Factory, payment_row
from tests.graphql import admin, execute, global_id, id_of, moment_of

Row = dict[str, Any]

# ---------------------------------------------------------------------------------------
# What the oracle knows of the filter language: its own catalogue, written from the SDL


class Kind(Enum):
    ID = "id"
    ENUM = "enum"
    CODE = "code"
    BOOLEAN = "boolean"
    AMOUNT = "amount"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"


OPS: dict[Kind, tuple[str, ...]] = {
    Kind.ID: ("eq", "in", "isNull"),
    Kind.ENUM: ("eq", "in"),
    Kind.CODE: ("eq", "in"),
    Kind.BOOLEAN: ("eq", "isNull"),
    Kind.AMOUNT: ("eq", "in", "gte", "lte", "isNull"),
    Kind.DATE: ("eq", "gte", "lte", "isNull"),
    Kind.DATETIME: ("eq", "gte", "lte", "isNull"),
    Kind.TEXT: ("eq", "in", "contains", "startsWith", "isNull"),
}


@dataclass(frozen=True)
class Field:
    """A filterable column: `target` is the type an ID field's global IDs name."""

    column: str
    kind: Kind
    target: str | None = None
    enum: type[Enum] | None = None


@dataclass(frozen=True)
class Relation:
    target: str
    columns: tuple[str, ...]  # the row matches when any of them reaches a matching row


def _id(target: str, column: str = "id") -> Field:
    return Field(column, Kind.ID, target)


FIELDS: dict[str, dict[str, Field]] = {
    "Payment": {
        "id": _id("Payment"),
        "kind": Field("kind", Kind.ENUM, enum=PaymentKind),
        "status": Field("status", Kind.ENUM, enum=PaymentStatus),
        "amount": Field("amount", Kind.AMOUNT),
        "paidAmount": Field("paid_amount", Kind.AMOUNT),
        "currency": Field("currency", Kind.CODE),
        "authorized": Field("authorized", Kind.BOOLEAN),
        "reference": Field("reference", Kind.TEXT),
        "paymentDate": Field("payment_date", Kind.DATE),
        "periodStart": Field("period_start", Kind.DATE),
        "periodEnd": Field("period_end", Kind.DATE),
        "paidAt": Field("paid_at", Kind.DATETIME),
        "createdAt": Field("created_at", Kind.DATETIME),
        "partnerId": _id("Partner", "partner_id"),
        "userId": _id("User", "user_id"),
        "merchantId": _id("Merchant", "merchant_id"),
        "invoiceId": _id("Invoice", "invoice_id"),
        "senderId": _id("Address", "sender_id"),
        "receiverId": _id("Address", "receiver_id"),
        "authorizedById": _id("User", "authorized_by_id"),
    },
    "Partner": {
        "id": _id("Partner"),
        "name": Field("name", Kind.TEXT),
        "kind": Field("kind", Kind.ENUM, enum=PartnerKind),
    },
    "User": {
        "id": _id("User"),
        "name": Field("name", Kind.TEXT),
        "role": Field("role", Kind.ENUM, enum=UserRole),
    },
    "Invoice": {
        "id": _id("Invoice"),
        "number": Field("number", Kind.TEXT),
        "status": Field("status", Kind.ENUM, enum=InvoiceStatus),
    },
    "Address": {
        "id": _id("Address"),
        "name": Field("name", Kind.TEXT),
        "city": Field("city", Kind.TEXT),
    },
    "Merchant": {"id": _id("Merchant"), "name": Field("name", Kind.TEXT)},
    "Company": {"id": _id("Company"), "name": Field("name", Kind.TEXT)},
    "PaymentMethod": {"id": _id("PaymentMethod"), "name": Field("name", Kind.TEXT)},
}

RELATIONS: dict[str, dict[str, Relation]] = {
    "Payment": {
        "partner": Relation("Partner", ("partner_id",)),
        "user": Relation("User", ("user_id",)),
        "authorizedBy": Relation("User", ("authorized_by_id",)),
        "invoice": Relation("Invoice", ("invoice_id",)),
        "sender": Relation("Address", ("sender_id",)),
        "receiver": Relation("Address", ("receiver_id",)),
        "address": Relation("Address", ("sender_id", "receiver_id")),
        "merchant": Relation("Merchant", ("merchant_id",)),
        "company": Relation("Company", ("company_id",)),
        "paymentMethod": Relation("PaymentMethod", ("payment_method_id",)),
    },
}

TABLE_OF_TYPE = {
    "Partner": "partner",
    "User": "user_account",
    "Merchant": "merchant",
    "Company": "company",
    "PaymentMethod": "payment_method",
    "Address": "address",
    "Invoice": "invoice",
    "Payment": "payment",
}
TYPE_OF_TABLE = {table: type_name for type_name, table in TABLE_OF_TYPE.items()}

# PaymentSortField -> column; the nullable ones sort NULL as the greatest value.
SORT_COLUMNS = {
    "ID": "id",
    "KIND": "kind",
    "STATUS": "status",
    "AMOUNT": "amount",
    "CURRENCY": "currency",
    "REFERENCE": "reference",
    "PAYMENT_DATE": "payment_date",
    "PERIOD_START": "period_start",
    "PERIOD_END": "period_end",
    "PAID_AT": "paid_at",
    "CREATED_AT": "created_at",
    "UPDATED_AT": "updated_at",
}
TEXT_SORT_COLUMNS = ("kind", "status", "currency", "reference")


# ---------------------------------------------------------------------------------------
# The oracle


def operand(field: Field, raw: Any) -> Any:
    """A filter's value as the rows hold it."""
    return {
        Kind.ID: id_of,
        Kind.ENUM: str.lower,  # GraphQL enum names are the stored values, upper-cased
        Kind.CODE: str.upper,  # currency codes match in any case
        Kind.BOOLEAN: bool,
        Kind.AMOUNT: int,
        Kind.DATE: date.fromisoformat,
        Kind.DATETIME: moment_of,
        Kind.TEXT: str,
    }[field.kind](raw)


def predicate_holds(field: Field, op: str, raw: Any, value: Any) -> bool:
    """One predicate on one value; every predicate but `isNull` is false on NULL."""
    if op == "isNull":
        return (value is None) is raw
    if value is None:
        return False
    if op == "in":
        return value in {operand(field, item) for item in raw}
    wanted = operand(field, raw)
    if op == "eq":
        return bool(value == wanted)
    if op == "gte":
        return bool(value >= wanted)
    if op == "lte":
        return bool(value <= wanted)
    if op == "contains":
        return wanted.lower() in value.lower()
    assert op == "startsWith", op
    return bool(value.lower().startswith(wanted.lower()))


class World:
    """One example's tenant: its rows by type and id, and the database's text order. Not
    a dataclass: hypothesis prints the strategies drawing from a world, and would print
    a dataclass field by field."""

    def __init__(
        self, tenant_id: int, rows: dict[str, dict[int, Row]], text_rank: dict[str, int]
    ) -> None:
        self.tenant_id = tenant_id
        self.rows = rows
        self.text_rank = text_rank

    def __repr__(self) -> str:
        return f"World(tenant {self.tenant_id})"

    @property
    def payments(self) -> list[Row]:
        return list(self.rows["Payment"].values())

    def ids(self, type_name: str) -> list[int]:
        return sorted(self.rows[type_name])

    def partner(self, index: int) -> int:
        return self.ids("Partner")[index]

    def partner_user(self, partner_id: int) -> int:
        [user] = [u["id"] for u in self.rows["User"].values() if u["partner_id"] == partner_id]
        return int(user)


def matches(world: World, type_name: str, where: Mapping[str, Any], row: Row) -> bool:
    """Fields AND, a field's predicates AND, `and` all, `or` any, `not` the complement;
    a relation matches through a non-NULL foreign key to a matching row."""
    for name, given_filter in where.items():
        if name == "and":
            holds = all(matches(world, type_name, part, row) for part in given_filter)
        elif name == "or":
            holds = any(matches(world, type_name, part, row) for part in given_filter)
        elif name == "not":
            holds = not matches(world, type_name, given_filter, row)
        elif name in RELATIONS.get(type_name, {}):
            relation = RELATIONS[type_name][name]
            holds = any(
                row[column] is not None
                and matches(
                    world, relation.target, given_filter, world.rows[relation.target][row[column]]
                )
                for column in relation.columns
            )
        else:
            field = FIELDS[type_name][name]
            holds = all(
                predicate_holds(field, op, raw, row[field.column])
                for op, raw in given_filter.items()
            )
        if not holds:
            return False
    return True


def sort_keys(sort: Sequence[Mapping[str, str]] | None) -> list[tuple[str, bool]]:
    """(column, descending) in order, up to `id`, then `id` ascending if not yet there."""
    keys: list[tuple[str, bool]] = []
    for key in sort or ():
        column = SORT_COLUMNS[key["field"]]
        keys.append((column, key.get("direction", "ASC") == "DESC"))
        if column == "id":
            return keys
    return [*keys, ("id", False)]


def comparison(world: World, sort: Sequence[Mapping[str, str]] | None) -> Any:
    """The list's order as a `cmp` function: NULL is greater than every value, so it
    comes last ascending and first descending."""
    keys = sort_keys(sort)

    def comparable(column: str, value: Any) -> Any:
        return (
            world.text_rank[value] if column in TEXT_SORT_COLUMNS and value is not None else value
        )

    def compare(a: Row, b: Row) -> int:
        for column, descending in keys:
            x, y = comparable(column, a[column]), comparable(column, b[column])
            if x == y:
                continue
            if x is None:
                return -1 if descending else 1
            if y is None:
                return 1 if descending else -1
            order = (x > y) - (x < y)
            return -order if descending else order
        return 0

    return compare


def ordered(
    world: World, rows: Sequence[Row], sort: Sequence[Mapping[str, str]] | None
) -> list[Row]:
    """`rows` in the list's order."""
    return sorted(rows, key=functools.cmp_to_key(comparison(world, sort)))


@dataclass(frozen=True)
class Caller:
    label: str
    principal: Principal

    def sees(self, payment: Row) -> bool:
        """The scope: an admin sees the tenant; a partner user its partner's payments,
        only commission payments with `view-partner-payments` alone."""
        principal = self.principal
        if principal.partner_id is None:
            return True
        if payment["partner_id"] != principal.partner_id:
            return False
        return VIEW_PAYMENTS in principal.permissions or payment["kind"] == "commission"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class ListQuery:
    filter: dict[str, Any] | None
    sort: list[dict[str, str]] | None
    size: int

    def __str__(self) -> str:
        return json.dumps({"filter": self.filter, "sort": self.sort, "size": self.size})


def oracle(world: World, caller: Caller, query: ListQuery) -> list[int]:
    """The ids of the list `caller` must get for `query`, in order."""
    rows = [
        row
        for row in world.payments
        if caller.sees(row) and matches(world, "Payment", query.filter or {}, row)
    ]
    return [row["id"] for row in ordered(world, rows, query.sort)]


def sort_values(world: World, query: ListQuery, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """Each row's id and sort-key values, for failure messages."""
    keys = sort_keys(query.sort)
    return [
        (row_id, *(str(world.rows["Payment"][row_id][c]) for c, _ in keys if c != "id"))
        for row_id in ids
    ]


# ---------------------------------------------------------------------------------------
# Drawing a tenant


@dataclass(frozen=True)
class Ref:
    """The `index`-th row drawn for `table`, resolved to its id at insert time."""

    table: str
    index: int


TABLES = (
    "partner",
    "user_account",
    "merchant",
    "company",
    "payment_method",
    "address",
    "invoice",
    "payment",
)
PARTNERS = 3
ADMINS = 2
MAX_PAYMENTS = 28
# Letters of both cases, a digit, the LIKE wildcards, the backslash and `/`, the escape
# character SQLAlchemy's autoescape puts before them.
ALPHABET = "abAB1%_\\/"
CURRENCIES = ("USD", "EUR", "MXN", "JPY")
MISSING_ROW_ID = 2**62  # no row has it

texts = st.text(ALPHABET, min_size=1, max_size=4)
AMOUNTS = st.sampled_from([0, 1, 250, 10_000, 10**12, 2**53 + 1, 2**63 - 1])
DAYS = st.dates(date(2025, 1, 1), date(2025, 1, 10))
MOMENTS = st.builds(
    lambda minutes, micro: BASE_TIME + timedelta(minutes=minutes, microseconds=micro),
    st.integers(0, 3 * 24 * 60),
    st.sampled_from([0, 0, 1, 999_999]),
)


# Strategies are built once and drawn from many times: hypothesis validates each new
# strategy object (walking what it is made of) on its first draw, which cost more CPU than
# the drawing itself when every draw built its strategies anew. The same strategy drawn
# from the same choices gives the same value, so keeping them changes nothing drawn.
kept = functools.cache
# Those of one example's world: kept for the worlds drawn lately (shrinking replays them).
kept_per_world = functools.lru_cache(maxsize=1024)


def few(strategy: st.SearchStrategy[Any], most: int = 3) -> st.SearchStrategy[list[Any]]:
    return st.lists(strategy, min_size=1, max_size=most, unique=True)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@kept
def one_of_these(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    """`st.sampled_from(values)`, one strategy object per tuple of values."""
    return st.sampled_from(values)


@kept
def values_of(enum: type[Enum]) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum])


Drawn = dict[str, list[Row]]


def admin_ref(index: int) -> Ref:
    return Ref("user_account", index)  # the first ADMINS users are the admins


PAYMENT_KINDS = st.sampled_from([PaymentKind.COMMISSION, *PaymentKind])
PAYMENT_PARTNERS = st.sampled_from([0, 0, 1, 2, None])
# A payment's user and merchant: none without a partner, else maybe the partner's.
OWNED = {partner: maybe(st.just(partner)) for partner in range(PARTNERS)} | {None: st.none()}
STATUSES = {kind: st.sampled_from(STATUSES_BY_KIND[kind]) for kind in PaymentKind}
MAYBE_ADMIN = maybe(st.integers(0, ADMINS - 1).map(admin_ref))


@st.composite
def tenants(draw: st.DrawFn) -> Drawn:
    """The rows of one tenant, by table, parents first; few distinct values."""
    name = st.sampled_from(draw(st.lists(texts, min_size=2, max_size=5, unique=True)))
    city = st.sampled_from(draw(few(texts)))
    references = st.lists(st.text(ALPHABET, max_size=4), min_size=2, max_size=4, unique=True)
    reference = st.sampled_from(draw(references))
    amount = st.sampled_from(draw(few(AMOUNTS)))
    day = st.sampled_from(draw(few(DAYS)))
    moment = st.sampled_from(draw(few(MOMENTS)))
    currency = st.sampled_from(draw(few(st.sampled_from(CURRENCIES))))
    rows: Drawn = {table: [] for table in TABLES}
    links: dict[tuple[str, int], st.SearchStrategy[Ref | None]] = {}

    def link(table: str) -> st.SearchStrategy[Ref | None]:
        drawn = len(rows[table])
        if (table, drawn) not in links:
            ref = st.integers(0, drawn - 1).map(lambda i: Ref(table, i))
            links[table, drawn] = maybe(ref)
        return links[table, drawn]

    for i in range(PARTNERS):
        rows["partner"].append(
            {"name": draw(name), "kind": draw(values_of(PartnerKind)), "external_ref": f"p{i}"}
        )
    for i in range(ADMINS):  # users 0 and 1: admins of no partner
        rows["user_account"].append(
            {"name": draw(name), "email": f"a{i}@x.test", "role": "admin", "partner_id": None}
        )
    for i in range(PARTNERS):  # user ADMINS + i: the user of partner i
        rows["user_account"].append(
            {
                "name": draw(name),
                "email": f"p{i}@x.test",
                "role": "partner",
                "partner_id": Ref("partner", i),
            }
        )
        rows["merchant"].append(
            {"name": draw(name), "external_ref": f"m{i}", "partner_id": Ref("partner", i)}
        )
    for _ in range(2):
        rows["company"].append({"name": draw(name)})
        rows["payment_method"].append(
            {"name": draw(name), "method_type": draw(values_of(PaymentMethodType))}
        )
    for _ in range(3):
        rows["address"].append(
            {
                "name": draw(name),
                "city": draw(city),
                "line1": "1 Main St",
                "country_code": "US",
                "company_id": draw(link("company")),
            }
        )
    for i in range(3):
        rows["invoice"].append(
            {
                "number": f"{draw(name)}{i}",  # unique in the tenant
                "status": draw(values_of(InvoiceStatus)),
                "total_amount": 10_000,
                "paid_amount": 0,
                "currency": "USD",
                "issued_on": date(2025, 1, 1),
                "sender_id": draw(link("address")),
                "receiver_id": draw(link("address")),
            }
        )
    maybe_amount, maybe_reference = maybe(amount), maybe(reference)
    maybe_day, maybe_moment = maybe(day), maybe(moment)
    for _ in range(draw(st.integers(0, MAX_PAYMENTS))):
        kind = draw(PAYMENT_KINDS)
        partner = draw(PAYMENT_PARTNERS)
        owned = OWNED[partner]
        user, merchant = draw(owned), draw(owned)
        rows["payment"].append(
            {
                "kind": kind.value,
                "status": draw(STATUSES[kind]).value,
                "amount": draw(amount),
                "paid_amount": draw(maybe_amount),
                "currency": draw(currency),
                "authorized": draw(st.booleans()),
                "authorized_by_id": draw(MAYBE_ADMIN),
                "reference": draw(maybe_reference),
                "payment_date": draw(maybe_day),
                "period_start": draw(maybe_day),
                "period_end": draw(maybe_day),
                "paid_at": draw(maybe_moment),
                "created_at": draw(moment),
                "updated_at": draw(moment),
                "partner_id": None if partner is None else Ref("partner", partner),
                "user_id": None if user is None else Ref("user_account", ADMINS + user),
                "merchant_id": None if merchant is None else Ref("merchant", merchant),
                "invoice_id": draw(link("invoice")),
                "sender_id": draw(link("address")),
                "receiver_id": draw(link("address")),
                "company_id": draw(link("company")),
                "payment_method_id": draw(link("payment_method")),
            }
        )
    return rows


async def insert_tenant(engine: AsyncEngine, drawn: Drawn) -> World:
    """A fresh tenant holding `drawn`, a table at a time, parents first."""
    tenant_id = await Factory(engine).tenant()
    ids: dict[str, list[int]] = {}
    rows: dict[str, dict[int, Row]] = {}
    async with engine.begin() as connection:
        for table_name, drawn_rows in drawn.items():
            table = m.Base.metadata.tables[table_name]
            resolved = [
                {
                    column: ids[value.table][value.index] if isinstance(value, Ref) else value
                    for column, value in row.items()
                }
                for row in drawn_rows
            ]
            with_defaults = payment_row if table_name == "payment" else dict
            values = [with_defaults(tenant_id=tenant_id, **row) for row in resolved]
            ids[table_name] = []
            if values:
                statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
                ids[table_name] = list((await connection.execute(statement, values)).scalars())
            rows[TYPE_OF_TABLE[table_name]] = {
                row_id: {**row, "id": row_id}
                for row_id, row in zip(ids[table_name], values, strict=True)
            }
    texts = {p[c] for p in rows["Payment"].values() for c in TEXT_SORT_COLUMNS} - {None}
    return World(tenant_id, rows, await collation_rank(engine, texts))


async def collation_rank(engine: AsyncEngine, texts: set[str]) -> dict[str, int]:
    """Each text's rank in the database's own text order (its collation)."""
    if not texts:
        return {}
    union = union_all(*(select(literal(text, String()).label("v")) for text in texts)).subquery()
    async with engine.connect() as connection:
        result = await connection.execute(select(union.c.v).order_by(union.c.v))
        ranked = list(result.scalars())
    assert sorted(ranked) == sorted(texts)
    return {text: rank for rank, text in enumerate(ranked)}


def callers(world: World, partner_permissions: frozenset[str]) -> list[Caller]:
    """The tenant's admin and the user of the first partner."""
    partner = world.partner(0)
    partner_user = Principal(
        tenant_id=world.tenant_id,
        user_id=world.partner_user(partner),
        credential=Credential.JWT,
        permissions=partner_permissions,
        partner_id=partner,
    )
    return [
        Caller("admin", admin(world.tenant_id)),
        Caller(f"partner user with {sorted(partner_permissions)}", partner_user),
    ]


PARTNER_PERMISSIONS = st.sampled_from(
    [
        frozenset({VIEW_PAYMENTS}),
        frozenset({VIEW_PARTNER_PAYMENTS}),
        frozenset({VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS}),
    ]
)

# ---------------------------------------------------------------------------------------
# Drawing queries over a tenant


@kept
def spelled(moment: datetime) -> st.SearchStrategy[str]:
    """A moment as ISO-8601: with `Z`, mostly; in another offset; or without one (UTC)."""
    utc = moment.astimezone(UTC)
    elsewhere = timezone(timedelta(hours=-5, minutes=-30))
    return st.sampled_from(
        [
            utc.isoformat().replace("+00:00", "Z"),
            utc.isoformat().replace("+00:00", "Z"),
            utc.astimezone(elsewhere).isoformat(),
            utc.replace(tzinfo=None).isoformat(),
        ]
    )


@kept
def needles(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Texts to look for: the column's own values, their prefixes and other pieces in
    any case, lone wildcards (which must match only themselves), and short texts."""
    wildcards = st.sampled_from(["%", "_", "\\", "/", "%%", "_%", "/%", "\\_"])
    anything = st.text(ALPHABET, max_size=3)
    if not values:
        return wildcards | anything
    case = st.sampled_from([str, str.upper, str.lower, str.swapcase])
    held = st.sampled_from(values)

    @st.composite
    def piece(draw: st.DrawFn, prefix: bool) -> str:
        value = draw(held)
        start = 0 if prefix else draw(st.integers(0, len(value)))
        end = draw(st.integers(start, len(value)))
        return str(draw(case)(value[start:end]))

    return held | piece(prefix=True) | piece(prefix=False) | wildcards | anything


def held_first(held: Sequence[Any], others: Sequence[Any]) -> list[Any]:
    """`held` then the `others` not among them: hypothesis draws (and shrinks towards)
    the first values of a `sampled_from` most, and the held values are the boundaries."""
    return list(dict.fromkeys([*held, *others]))


@kept_per_world
def operands(world: World, type_name: str, field: Field) -> st.SearchStrategy[Any]:
    """Values for one field's predicates: the values the tenant holds first, then their
    neighbours and values no row holds. Held values sort by value, not by `repr`: ids are
    new on every replay of an example, and `repr` would order 998 after 1002."""
    held = sorted({row[field.column] for row in world.rows[type_name].values()} - {None})
    if field.kind is Kind.ID:
        assert field.target is not None
        target = field.target
        ids = st.sampled_from(held_first(held, [*world.ids(target), MISSING_ROW_ID]))
        return ids.flatmap(lambda i: one_of_these((str(i), global_id(target, i), i)))
    if field.kind is Kind.ENUM:
        assert field.enum is not None
        return st.sampled_from(held_first([v.upper() for v in held], [m.name for m in field.enum]))
    if field.kind is Kind.CODE:
        codes = st.sampled_from(held_first(held, [*CURRENCIES, "GBP"]))
        return codes | codes.map(str.lower)
    if field.kind is Kind.BOOLEAN:
        return st.booleans()
    if field.kind is Kind.AMOUNT:
        near = [a + d for a in held or [0] for d in (-1, 1) if 0 <= a + d < 2**63]
        amounts = st.sampled_from(held_first(held, [*near, -1]))
        return amounts.flatmap(lambda a: one_of_these((a, str(a))))
    if field.kind is Kind.DATE:
        days = [d + timedelta(days=s) for d in held or [date(2025, 1, 1)] for s in (-1, 1)]
        return st.sampled_from(held_first(held, days)).map(date.isoformat)
    if field.kind is Kind.DATETIME:
        tick = timedelta(microseconds=1)
        moments = [t + s for t in held or [BASE_TIME] for s in (-tick, tick)]
        return st.sampled_from(held_first(held, moments)).flatmap(spelled)
    return needles(tuple(held))


@kept_per_world
@st.composite
def text_search(draw: st.DrawFn, world: World, type_name: str, field: Field) -> dict[str, Any]:
    """`contains` or `startsWith`, now and then with `isNull` or `eq` beside it."""
    found = {draw(SEARCHES): draw(operands(world, type_name, field))}
    if draw(st.integers(0, 4)) == 0:
        found.update(draw(predicates(world, type_name, field)))
    return found


SEARCHES = st.sampled_from(["contains", "startsWith"])
RANGED = (Kind.AMOUNT, Kind.DATE, Kind.DATETIME)


PREDICATE_COUNTS = st.sampled_from([1, 1, 1, 2, 3])


@kept_per_world
@st.composite
def predicates(
    draw: st.DrawFn, world: World, type_name: str, field: Field, ops: Sequence[str] = ()
) -> dict[str, Any]:
    """One predicate of a field, sometimes two or three (they AND); `gte` never above
    `lte`, which the gateway refuses."""
    value = operands(world, type_name, field)
    found: dict[str, Any] = {}
    ops = ops or OPS[field.kind]
    count = min(len(ops), draw(PREDICATE_COUNTS))
    chosen = st.lists(one_of_these(ops), min_size=count, max_size=count, unique=True)
    for op in draw(chosen):
        if op == "isNull":
            found[op] = draw(st.booleans())
        elif op == "in":
            found[op] = draw(st.lists(value, min_size=1, max_size=3))
        else:
            found[op] = draw(value)
    low, high = found.get("gte"), found.get("lte")
    if low is not None and high is not None and operand(field, low) > operand(field, high):
        found["gte"], found["lte"] = found["lte"], found["gte"]
    return found


@kept_per_world
@st.composite
def one_field(draw: st.DrawFn, world: World, type_name: str) -> dict[str, Any]:
    """One field: any field with any predicates, a text search, a range (on payments),
    or a relation with a filter of its target, each kind as likely as the others."""
    fields = FIELDS[type_name]
    relations = RELATIONS.get(type_name, {})
    kinds = ("scalar", "search", "range", "relation")[: 4 if relations else 2]
    kind = draw(one_of_these(kinds))
    if kind == "relation":
        name = draw(one_of_these(tuple(sorted(relations))))
        target = relations[name].target
        return {name: draw(filters(world, target, leaves=draw(st.integers(1, 3))))}
    if kind == "search":
        name = draw(one_of_these(tuple(n for n, spec in fields.items() if spec.kind is Kind.TEXT)))
        return {name: draw(text_search(world, type_name, fields[name]))}
    if kind == "range":
        name = draw(one_of_these(tuple(n for n, spec in fields.items() if spec.kind in RANGED)))
        return {name: draw(predicates(world, type_name, fields[name], ops=("gte", "lte")))}
    name = draw(one_of_these(tuple(sorted(fields))))
    return {name: draw(predicates(world, type_name, fields[name]))}


@kept_per_world
@st.composite
def filters(draw: st.DrawFn, world: World, type_name: str, leaves: int) -> dict[str, Any]:
    """A filter of `type_name` rows with at most `leaves` fields: a field, two fields, or
    `{}`; or `and`, `or` or `not` over smaller filters, alone or beside a field; the more
    leaves, the likelier a combinator. (Composite all the way down: hypothesis prints strategies,
    and nested strategy objects would print ever larger.)"""
    if leaves <= 1:
        shape = draw(one_of_these(("field", "field", "field", "empty", "not")))
    elif leaves <= 2:
        shape = draw(one_of_these(("field", "fields", "empty", "and", "or", "not")))
    else:
        shape = draw(one_of_these(("field", "fields", "and", "or", "not")))
    if shape == "empty":
        return {}
    if shape == "field":
        return draw(one_field(world, type_name))
    if shape == "fields":
        return {**draw(one_field(world, type_name)), **draw(one_field(world, type_name))}
    beside = {}
    if leaves > 1 and draw(st.booleans()):
        beside, leaves = draw(one_field(world, type_name)), leaves - 1
    if shape == "not":
        return {**beside, "not": draw(filters(world, type_name, max(1, leaves - 1)))}
    count = draw(st.integers(1, min(3, leaves)))
    parts = [draw(filters(world, type_name, leaves // count)) for _ in range(count)]
    return {**beside, shape: parts}


def depth(where: Mapping[str, Any]) -> int:
    """How deep a filter nests: `and` / `or` items, `not` and relations each one level."""
    deepest = 0
    for name, given_filter in where.items():
        if name in ("and", "or"):
            deepest = max(deepest, *(1 + depth(part) for part in given_filter))
        elif name == "not" or name in RELATIONS["Payment"]:
            deepest = max(deepest, 1 + depth(given_filter))
    return deepest


def conditions(where: Mapping[str, Any]) -> int:
    """How many conditions the gateway counts in a filter: predicates and relations."""
    found = 0
    for name, given_filter in where.items():
        if name in ("and", "or"):
            found += sum(conditions(part) for part in given_filter)
        elif name == "not":
            found += conditions(given_filter)
        elif name in RELATIONS["Payment"]:  # the relations' targets have none of their own
            found += 1 + conditions(given_filter)
        else:
            found += len(given_filter)
    return found


SORTS = st.lists(
    st.tuples(st.sampled_from(sorted(SORT_COLUMNS)), st.sampled_from(["ASC", "DESC", None])),
    max_size=3,
    unique_by=lambda key: key[0],
).map(lambda keys: [{"field": f, **({"direction": d} if d else {})} for f, d in keys])


@kept_per_world
def list_queries(world: World) -> st.SearchStrategy[ListQuery]:
    """A query with a filter, mostly, and sort keys, often; a page of one to seven rows.
    The gateway refuses filters of over 100 conditions or 8 levels: these stay below."""
    filtered = (
        st.sampled_from([1, 2, 6, 12])
        .flatmap(lambda leaves: filters(world, "Payment", leaves))
        .filter(lambda where: conditions(where) <= 40 and depth(where) <= 5)
    )
    return st.builds(
        ListQuery,
        filter=st.one_of(st.none(), *[filtered] * 3),
        sort=maybe(SORTS),
        size=st.integers(1, 7),
    )


# ---------------------------------------------------------------------------------------
# Asking the gateway

CURSOR_PAGE = """
query CursorPage(
  $filter: PaymentFilter, $sort: [PaymentSort!],
  $first: Int, $after: String, $last: Int, $before: String
) {
  payments(filter: $filter, sort: $sort, first: $first, after: $after, last: $last,
           before: $before) {
    edges { cursor node { databaseId } }
    nodes { databaseId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
    meta { currentPage perPage totalPages totalCount }
  }
}
"""

NUMBERED_PAGE = """
query NumberedPage($filter: PaymentFilter, $sort: [PaymentSort!], $page: Int, $perPage: Int) {
  payments(filter: $filter, sort: $sort, page: $page, perPage: $perPage) {
    edges { cursor node { databaseId } }
    nodes { databaseId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
    meta { currentPage perPage totalPages totalCount }
  }
}
"""


@dataclass(frozen=True)
class Page:
    ids: list[int]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: int
    meta: dict[str, Any]


async def ask(
    engine: AsyncEngine, caller: Caller, document: str, query: ListQuery, **window: Any
) -> Any:
    given = {"filter": query.filter, "sort": query.sort, **window}
    variables = {name: value for name, value in given.items() if value is not None}
    return await execute(engine, document, caller.principal, **variables)


async def fetch(
    engine: AsyncEngine, caller: Caller, document: str, query: ListQuery, **window: Any
) -> Page:
    """One page, checked for consistency within itself."""
    result = await ask(engine, caller, document, query, **window)
    asked = f"{caller} asking {query} with {window}"
    assert result.errors is None, f"{asked}: {result.errors}"
    connection = result.data["payments"]
    ids = [edge["node"]["databaseId"] for edge in connection["edges"]]
    cursors = [edge["cursor"] for edge in connection["edges"]]
    assert [node["databaseId"] for node in connection["nodes"]] == ids, asked
    info = connection["pageInfo"]
    assert info["startCursor"] == (cursors[0] if cursors else None), asked
    assert info["endCursor"] == (cursors[-1] if cursors else None), asked
    assert connection["meta"]["totalCount"] == connection["totalCount"], asked
    return Page(
        ids,
        cursors,
        info["hasNextPage"],
        info["hasPreviousPage"],
        connection["totalCount"],
        connection["meta"],
    )


def assert_refused_cursor(result: Any, message: str) -> None:
    assert result.errors, f"{message}: {result.data}"
    [error] = result.errors
    assert error.extensions["code"] == "BAD_USER_INPUT", error
    assert error.extensions["field"] == "after", error


def pages_needed(rows: int, size: int) -> int:
    return -(-rows // size)


@dataclass
class Check:
    """One caller's list for one query, and what the oracle says it must be."""

    engine: AsyncEngine
    world: World
    caller: Caller
    query: ListQuery
    expected: list[int]

    def context(self, where: str) -> str:
        return f"{self.caller}, {where}, query {self.query}"

    def assert_rows(self, got: list[int], want: list[int], where: str) -> None:
        shown = functools.partial(sort_values, self.world, self.query)
        assert got == want, (
            f"{self.context(where)}:\n  expected (id, sort keys) {shown(want)}"
            f"\n  got {shown(got)}\n  whole list {shown(self.expected)}"
        )

    def assert_counts(self, page: Page, where: str, *, size: int, current: int | None) -> None:
        total = len(self.expected)
        assert page.total == total, f"{self.context(where)}: totalCount {page.total} != {total}"
        assert page.meta == {
            "currentPage": current,
            "perPage": size,
            "totalPages": pages_needed(total, size),
            "totalCount": total,
        }, self.context(where)

    async def cursor_page(self, **window: Any) -> Page:
        return await fetch(self.engine, self.caller, CURSOR_PAGE, self.query, **window)

    async def whole_list(self) -> None:
        """The whole list on one page of the largest size."""
        where = "one page (first: 200)"
        page = await self.cursor_page(first=200)
        self.assert_rows(page.ids, self.expected, where)
        assert not page.has_next and not page.has_previous, self.context(where)
        self.assert_counts(page, where, size=200, current=None)

    async def walk_forward(self) -> dict[int, str]:
        """Every page with `first` / `after`; returns each row's cursor."""
        size, expected = self.query.size, self.expected
        seen: list[int] = []
        cursors: dict[int, str] = {}
        after = None
        for number in range(pages_needed(len(expected), size) + 1):
            where = f"forward page {number + 1} (first: {size})"
            page = await self.cursor_page(first=size, after=after)
            start = number * size
            assert not set(page.ids) & set(seen), f"{self.context(where)}: rows seen before"
            self.assert_rows(page.ids, expected[start : start + size], where)
            assert page.has_next == (start + size < len(expected)), self.context(where)
            assert page.has_previous == (number > 0), self.context(where)
            self.assert_counts(page, where, size=size, current=None)
            seen += page.ids
            cursors.update(zip(page.ids, page.cursors, strict=True))
            if not page.has_next:
                break
            after = page.cursors[-1]
        assert seen == expected, self.context("walking forward")
        return cursors

    async def walk_backward(self, cursors: Mapping[int, str]) -> None:
        """Every page with `last` / `before`, from the end; each row keeps its cursor."""
        size, expected = self.query.size, self.expected
        seen: list[int] = []
        before = None
        for number in range(pages_needed(len(expected), size) + 1):
            where = f"backward page {number + 1} (last: {size})"
            page = await self.cursor_page(last=size, before=before)
            end = len(expected) - number * size
            start = max(0, end - size)
            assert not set(page.ids) & set(seen), f"{self.context(where)}: rows seen before"
            self.assert_rows(page.ids, expected[start:end], where)
            assert page.has_previous == (start > 0), self.context(where)
            assert page.has_next == (number > 0), self.context(where)
            self.assert_counts(page, where, size=size, current=None)
            assert page.cursors == [cursors[i] for i in page.ids], self.context(where)
            seen = page.ids + seen
            if not page.has_previous:
                break
            before = page.cursors[0]
        assert seen == expected, self.context("walking backward")

    async def jump(self, data: st.DataObject, cursors: Mapping[int, str]) -> None:
        """From any row's cursor: `after` it, `before` it, and between two cursors."""
        expected = self.expected
        if not expected:
            return
        size = data.draw(st.integers(1, 7), label="jump size")
        i = data.draw(st.integers(0, len(expected) - 1), label="jump from")
        j = data.draw(st.integers(i, len(expected) - 1), label="jump to")
        at, to = cursors[expected[i]], cursors[expected[j]]

        where = f"first: {size} after row {i}"
        page = await self.cursor_page(first=size, after=at)
        self.assert_rows(page.ids, expected[i + 1 : i + 1 + size], where)
        assert page.has_next == (i + 1 + size < len(expected)), self.context(where)

        where = f"last: {size} before row {j}"
        page = await self.cursor_page(last=size, before=to)
        self.assert_rows(page.ids, expected[max(0, j - size) : j], where)
        assert page.has_previous == (j - size > 0), self.context(where)

        where = f"first: {size} after row {i} before row {j}"
        page = await self.cursor_page(first=size, after=at, before=to)
        self.assert_rows(page.ids, expected[i + 1 : min(j, i + 1 + size)], where)

        where = f"last: {size} after row {i} before row {j}"
        page = await self.cursor_page(last=size, after=at, before=to)
        self.assert_rows(page.ids, expected[max(i + 1, j - size) : j], where)

        # A position is a position: under another filter, the rows past it in that list,
        # whether or not the cursor's own row is in it.
        other = data.draw(list_queries(self.world), label="another filter")
        other = ListQuery(other.filter, self.query.sort, size)
        rows = self.world.rows["Payment"]
        compare = comparison(self.world, self.query.sort)
        theirs = oracle(self.world, self.caller, other)
        where = f"first: {size} after row {i}, under the filter {json.dumps(other.filter)}"
        page = await fetch(self.engine, self.caller, CURSOR_PAGE, other, first=size, after=at)
        past = [r for r in theirs if compare(rows[r], rows[expected[i]]) > 0]
        self.assert_rows(page.ids, past[:size], where)
        assert page.has_next == (len(past) > size), self.context(where)
        where = f"last: {size} before row {j}, under the filter {json.dumps(other.filter)}"
        page = await fetch(self.engine, self.caller, CURSOR_PAGE, other, last=size, before=to)
        ahead = [r for r in theirs if compare(rows[r], rows[expected[j]]) < 0]
        self.assert_rows(page.ids, ahead[-size:], where)
        assert page.has_previous == (len(ahead) > size), self.context(where)

        # A cursor only fits the order it came from (or one sorting the same way).
        sort = data.draw(maybe(SORTS), label="another sort")
        resorted = ListQuery(self.query.filter, sort, size)
        result = await ask(self.engine, self.caller, CURSOR_PAGE, resorted, first=size, after=at)
        where = f"first: {size} after row {i} of this order, under the sort {sort}"
        if sort_keys(sort) == sort_keys(self.query.sort):
            assert result.errors is None, f"{self.context(where)}: {result.errors}"
            ids = [edge["node"]["databaseId"] for edge in result.data["payments"]["edges"]]
            self.assert_rows(ids, expected[i + 1 : i + 1 + size], where)
        else:
            assert_refused_cursor(result, f"{self.context(where)}: the cursor is taken")

    async def numbered_pages(self, per_page: int | None) -> None:
        """Pages 1 to one past the last with `page` / `perPage` (25 when not given); the
        cursor of a page's last row leads to the next page."""
        size = 25 if per_page is None else per_page
        expected = self.expected
        for number in range(1, pages_needed(len(expected), size) + 2):
            where = f"page {number} (perPage: {per_page})"
            page = await fetch(
                self.engine, self.caller, NUMBERED_PAGE, self.query, page=number, perPage=per_page
            )
            start = (number - 1) * size
            self.assert_rows(page.ids, expected[start : start + size], where)
            assert page.has_next == (start + size < len(expected)), self.context(where)
            assert page.has_previous == (min(start, len(expected)) > 0), self.context(where)
            self.assert_counts(page, where, size=size, current=number)
            if page.has_next:
                where = f"first: {size} after the last row of page {number}"
                following = await self.cursor_page(first=size, after=page.cursors[-1])
                self.assert_rows(following.ids, expected[start + size : start + 2 * size], where)


# ---------------------------------------------------------------------------------------
# The oracle's own rules, pinned


def test_the_oracle_puts_nulls_last_ascending_first_descending_and_breaks_ties_by_id() -> None:
    day = date(2025, 1, 1)
    rows = {
        i: {"id": i, "payment_date": value, "amount": amount}
        for i, value, amount in [(1, None, 5), (2, day, 5), (3, None, 7), (4, day, 7)]
    }
    world = World(0, {"Payment": rows}, {})

    def ids(sort: list[dict[str, str]]) -> list[int]:
        return [row["id"] for row in ordered(world, list(rows.values()), sort)]

    assert ids([{"field": "PAYMENT_DATE"}]) == [2, 4, 1, 3]
    assert ids([{"field": "PAYMENT_DATE", "direction": "DESC"}]) == [1, 3, 2, 4]
    assert ids(
        [{"field": "AMOUNT", "direction": "DESC"}, {"field": "ID", "direction": "DESC"}]
    ) == [
        4,
        3,
        2,
        1,
    ]
    assert ids([{"field": "ID", "direction": "DESC"}, {"field": "AMOUNT"}]) == [4, 3, 2, 1]


def test_the_oracle_reads_a_predicate_on_null_as_false_and_not_as_its_complement() -> None:
    rows = {1: {"id": 1, "reference": None}, 2: {"id": 2, "reference": "A%b"}}
    world = World(0, {"Payment": rows}, {})

    def hits(where: dict[str, Any]) -> list[int]:
        return [i for i, row in rows.items() if matches(world, "Payment", where, row)]

    assert hits({"reference": {"eq": "x"}}) == []
    assert hits({"not": {"reference": {"eq": "x"}}}) == [1, 2]
    assert hits({"reference": {"contains": "a%"}}) == [2]
    assert hits({"reference": {"eq": "a%b"}}) == []
    assert hits({"reference": {"isNull": True}}) == [1]
    assert hits({"not": {}}) == []
    assert hits({"or": [{}, {"reference": {"eq": "x"}}]}) == [1, 2]


# ---------------------------------------------------------------------------------------
# The properties


# About 10-20 s per backend: each example inserts a tenant of up to ~50 rows and walks
# two queries as two callers, a few tens of small operations per walk.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=tenants(), data=st.data())
async def test_cursor_walks_return_every_matching_row_once_in_the_oracles_order(
    engine: AsyncEngine, drawn: Drawn, data: st.DataObject
) -> None:
    world = await insert_tenant(engine, drawn)
    permissions = data.draw(PARTNER_PERMISSIONS, label="partner user's permissions")
    for number in range(2):
        query = data.draw(list_queries(world), label=f"query {number}")
        for caller in callers(world, permissions):
            expected = oracle(world, caller, query)
            role = "admin" if caller.principal.partner_id is None else "partner user"
            target(float(len(expected)), label=f"rows of query {number} as {role}")
            check = Check(engine, world, caller, query, expected)
            cursors = await check.walk_forward()
            await check.walk_backward(cursors)
            await check.jump(data, cursors)


# Filters are many, pages few: a dozen queries a tenant, each on one page of 200 rows
# (about 10-12 s per backend).
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=tenants(), data=st.data())
async def test_any_filter_and_sort_lists_exactly_the_oracles_rows_for_either_caller(
    engine: AsyncEngine, drawn: Drawn, data: st.DataObject
) -> None:
    world = await insert_tenant(engine, drawn)
    permissions = data.draw(PARTNER_PERMISSIONS, label="partner user's permissions")
    for query in data.draw(st.lists(list_queries(world), min_size=12, max_size=12)):
        for caller in callers(world, permissions):
            await Check(engine, world, caller, query, oracle(world, caller, query)).whole_list()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=tenants(), data=st.data())
async def test_numbered_pages_cut_the_oracles_list_into_equal_slices(
    engine: AsyncEngine, drawn: Drawn, data: st.DataObject
) -> None:
    world = await insert_tenant(engine, drawn)
    permissions = data.draw(PARTNER_PERMISSIONS, label="partner user's permissions")
    query = data.draw(list_queries(world), label="query")
    per_page = data.draw(st.sampled_from([1, 2, 3, 5, 7, None]), label="perPage")
    for caller in callers(world, permissions):
        check = Check(engine, world, caller, query, oracle(world, caller, query))
        await check.numbered_pages(per_page)


# Texts where a wildcard read as one would match more than the literal, and the same
# letters in both cases; NULL, empty, and the escape characters themselves.
SEARCHED = ["a%b", "a_b", "axb", "AXB", "a\\b", "a/b", "%", "_", "", None, "ab%", "A_B", "/%"]
NEEDLES = ["%", "_", "\\", "/", "a%", "A_", "x", "X", "a\\", "a/", "", "%b", "_b", "ab", "A", "/%"]


async def test_text_search_takes_wildcards_literally_and_ignores_case_but_eq_does_not(
    engine: AsyncEngine,
) -> None:
    drawn: Drawn = {table: [] for table in TABLES}
    for index, text in enumerate(SEARCHED):
        drawn["partner"].append({"name": text or "-", "kind": "isv", "external_ref": f"p{index}"})
        drawn["payment"].append({"reference": text, "partner_id": Ref("partner", index)})
    drawn["user_account"].append(
        {"name": "U", "email": "u@x.test", "role": "partner", "partner_id": Ref("partner", 0)}
    )
    world = await insert_tenant(engine, drawn)
    caller = callers(world, frozenset({VIEW_PAYMENTS}))[0]
    wheres: list[dict[str, Any]] = [{"reference": {"in": ["a_b", "A_B", "AXB"]}}]
    for needle in NEEDLES:
        for op in ("contains", "startsWith", "eq"):
            wheres.append({"reference": {op: needle}})
            wheres.append({"not": {"reference": {op: needle}}})
            wheres.append({"partner": {"name": {op: needle}}})
    for where in wheres:
        query = ListQuery(where, None, 200)
        await Check(engine, world, caller, query, oracle(world, caller, query)).whole_list()


ORDERS: list[list[dict[str, str]] | None] = [
    None,
    [{"field": "ID", "direction": "DESC"}],
    [{"field": "AMOUNT"}],
    [{"field": "AMOUNT", "direction": "DESC"}],
    [{"field": "AMOUNT"}, {"field": "ID", "direction": "DESC"}],
    [{"field": "REFERENCE"}],
    [{"field": "REFERENCE"}, {"field": "AMOUNT"}],
    [{"field": "CREATED_AT", "direction": "DESC"}],
]


async def test_a_cursor_is_refused_by_every_order_but_its_own(engine: AsyncEngine) -> None:
    """A cursor names a position in one order; under another it would name a different
    place, so the gateway must refuse it rather than answer a page of the other list.
    Orders that sort the same way (`[ID]` and none; `[AMOUNT, ID]` and `[AMOUNT]`) share
    their cursors."""
    drawn: Drawn = {table: [] for table in TABLES}
    drawn["partner"].append({"name": "P", "kind": "isv", "external_ref": "p0"})
    drawn["user_account"].append(
        {"name": "U", "email": "u@x.test", "role": "partner", "partner_id": Ref("partner", 0)}
    )
    for amount, reference in [(5, "b"), (7, None), (5, "a"), (9, "a")]:
        drawn["payment"].append({"amount": amount, "reference": reference})
    world = await insert_tenant(engine, drawn)
    caller = callers(world, frozenset({VIEW_PAYMENTS}))[0]
    refusals = []
    for issued in ORDERS:
        page = await fetch(engine, caller, CURSOR_PAGE, ListQuery(None, issued, 2), first=2)
        for used in [*ORDERS, [{"field": "ID"}], [{"field": "AMOUNT"}, {"field": "ID"}]]:
            query = ListQuery(None, used, 2)
            result = await ask(engine, caller, CURSOR_PAGE, query, first=2, after=page.cursors[0])
            if sort_keys(used) == sort_keys(issued):
                assert result.errors is None, result.errors
                continue
            if not result.errors:
                refusals.append(f"a cursor of {issued} is taken by {used}")
                continue
            assert_refused_cursor(result, f"a cursor of {issued} under {used}")
    assert refusals == [], "\n".join(refusals)


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_a_walk_over_equal_keys_and_nulls_is_decided_by_the_id(
    engine: AsyncEngine, direction: str
) -> None:
    """A fixed tenant where every sort key ties or is NULL: only `id` orders it."""
    drawn: Drawn = {table: [] for table in TABLES}
    drawn["partner"].append({"name": "P", "kind": "isv", "external_ref": "p0"})
    drawn["user_account"].append(
        {"name": "U", "email": "u@x.test", "role": "partner", "partner_id": Ref("partner", 0)}
    )
    for index in range(9):
        drawn["payment"].append(
            {
                "amount": 100,
                "reference": None if index % 3 else "r",
                "paid_at": None,
                "partner_id": Ref("partner", 0) if index % 2 else None,
            }
        )
    world = await insert_tenant(engine, drawn)
    sort = [
        {"field": "AMOUNT", "direction": direction},
        {"field": "PAID_AT", "direction": direction},
        {"field": "REFERENCE", "direction": direction},
    ]
    for size in (1, 2, 4):
        for caller in callers(world, frozenset({VIEW_PAYMENTS})):
            query = ListQuery({"amount": {"gte": "100"}}, sort, size)
            check = Check(engine, world, caller, query, oracle(world, caller, query))
            await check.walk_backward(await check.walk_forward())
