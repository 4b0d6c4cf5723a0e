"""Tenant isolation as a property over the whole read graph.

Two fresh tenants, A and B, receive the same random data, row for row. A third tenant,
the intruder C, owns rows whose foreign keys point into A and B alike, as the database
allows (its foreign keys do not include the tenant): under every row of A that heads a
nested list (an invoice's or address's payments, an invoice's or payment's ledger lines,
a payment's details, documents and events, a partner's children, merchants and payments,
a reseller's accounts and customers' payments, a merchant's terminals and payments) it
hangs a row of its own (a payment of every kind), and the same under B's mirrored row.
Every list and every object lookup of the schema, found by walking the schema rather
than listed by hand, is asked as A's and as B's admin. A tenant must never see a row of
another tenant (not an id, a database id nor a cursor), not even one linked to its own
rows; its counts must count only its own rows; the two tenants' answers must be the
same once ids are replaced by their rank; and another tenant's object must be exactly
as not-found as an object that exists nowhere.

Besides the Node types, two object types name rows: an FxRate is a row of its own with
a database id but no global ID, and a Reseller is a view of the Partner rows of kind
RESELLER (its ids are its Partner's), read by `reseller(id)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache, partial
from typing import Any

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    parse,
    validate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.loaders import BY_PARENT
from domain.principal import Principal
from domain.statuses import (
    STATUSES_BY_KIND,
    DocumentStatus,
    InvoiceStatus,
    LedgerDirection,
    PartnerKind,
    PaymentMethodType,
    PaymentStatus,
    UserRole,
)
from resolvers.cursors import MAX_ROW_ID, cursor_row_id, decode_token, encode
from schema.app_schema import schema
from tests.factories import BASE_TIME, Factory, payment_row
from tests.graphql import admin, execute
from tests.schema_walk import (
    Leaf,
    Lookup,
    lists_document,
    lookups_document,
    map_leaves,
    node_types,
    possible_types,
    root_fields,
)

GRAPHQL = schema._schema
ROOTS = root_fields(GRAPHQL)

# Row type (every Node type, and the object types in ROW_TYPES) -> the table its rows
# live in, in an order that inserts parents first.
TABLE_OF_TYPE = {
    "Partner": m.Partner.__tablename__,
    "Account": m.Account.__tablename__,
    "Merchant": m.Merchant.__tablename__,
    "Terminal": m.Terminal.__tablename__,
    "Company": m.Company.__tablename__,
    "User": m.User.__tablename__,
    "Address": m.Address.__tablename__,
    "PaymentMethod": m.PaymentMethod.__tablename__,
    "FxRate": m.FxRate.__tablename__,
    "Invoice": m.Invoice.__tablename__,
    "Payment": m.Payment.__tablename__,
    "PaymentDetail": m.PaymentDetail.__tablename__,
    "PaymentDocument": m.PaymentDocument.__tablename__,
    "AccountingTransaction": m.AccountingTransaction.__tablename__,
    "PaymentEvent": m.PaymentEvent.__tablename__,
}
NODE_TYPE_NAMES = {t.name for t in node_types(GRAPHQL)}
# Object types that are rows of their own without being Nodes: no global ID, no lookup;
# their `databaseId` names the row and they are selected with every field.
ROW_TYPES = {"FxRate"}


@dataclass(frozen=True)
class View:
    """An object type that reads the rows of a Node type (`of`) whose `column` holds
    `value`: its `id` is that Node's global ID and its `databaseId` the row's. A hop to
    one selects `{ id }`, as a hop to a Node does (its edges lead back to views, which as
    value objects would nest forever: Reseller.parent)."""

    of: str
    column: str
    value: str


VIEWS = {"Reseller": View("Partner", "kind", PartnerKind.RESELLER.value)}
CURSOR_FIELDS = {"cursor", "startCursor", "endCursor"}
# An id no row has: far above anything a test inserts, still a valid BIGINT.
MISSING_ROW_ID = MAX_ROW_ID - 1
MAX_ROWS = 4  # per table: enough for trees, shared parents and empty lists, still fast


def parent_table(child_table: str, foreign_key: str) -> str:
    [key] = m.Base.metadata.tables[child_table].c[foreign_key].foreign_keys
    return key.column.table.name


# Every nested list the graph serves, as (child table, foreign key, parent table): the
# intruder hangs a row of its own under the other tenants' rows through each of them.
NESTED = sorted(
    (model.table.name, foreign_key, parent_table(model.table.name, foreign_key))
    for model, foreign_key in BY_PARENT.values()
)

LISTS = lists_document(GRAPHQL)


# ---------------------------------------------------------------------------------------
# Mirrored data: one drawn structure, inserted once per tenant


@dataclass(frozen=True)
class Ref:
    """A foreign key to the `index`-th row drawn for `table`, resolved at insert time."""

    table: str
    index: int


Rows = dict[str, list[dict[str, Any]]]  # table -> rows, parents' tables first

CURRENCIES = ("USD", "EUR", "JPY", "BHD", "MXN")
currencies = st.sampled_from(CURRENCIES)
moments = st.integers(0, 2 * 365 * 24 * 60).map(
    lambda minutes: BASE_TIME + timedelta(minutes=minutes)
)
days = st.dates(date(2024, 1, 1), date(2026, 12, 31))
words = st.text("abcdefgh -", min_size=1, max_size=10)
amounts = st.integers(0, 10**12)


# One strategy object per strategy made optional: hypothesis validates every new strategy
# object on its first draw, which cost more than the draws when each draw made its own.
@lru_cache(maxsize=256)
def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def values_of(enum: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum])


@cache
def maybe_ref(table: str, drawn: int) -> st.SearchStrategy[Ref | None]:
    """None or one of the first `drawn` rows of `table`."""
    return maybe(st.integers(0, drawn - 1).map(partial(Ref, table)))


@st.composite
def mirrored_rows(draw: st.DrawFn) -> Rows:
    """Up to MAX_ROWS rows in every table behind a Node type, linked at random (links
    left None at random too), with explicit timestamps so both copies are equal."""
    rows: Rows = {table: [] for table in TABLE_OF_TYPE.values()}

    def count(low: int = 0, needs: str | None = None) -> range:
        """How many rows to draw for a table; none when the table it needs is empty."""
        if needs is not None and not rows[needs]:
            return range(0)
        return range(draw(st.integers(low, MAX_ROWS)))

    def link(table: str) -> Ref | None:
        drawn = len(rows[table])
        return draw(maybe_ref(table, drawn)) if drawn else None

    def parent(table: str) -> Ref:
        return Ref(table, draw(st.integers(0, len(rows[table]) - 1)))

    for i in count(low=1):
        rows["partner"].append(
            {
                "parent_id": link("partner"),  # only earlier partners: always a tree
                "name": f"Partner {i}",
                "kind": draw(values_of(PartnerKind)),
                "external_ref": f"prt_{i}",
                "payout_account": draw(maybe(words)),
                "created_at": draw(moments),
            }
        )
    for _ in count(needs="partner"):
        rows["account"].append(
            {
                "reseller_id": parent("partner"),
                "name": draw(words),
                "created_at": draw(moments),
            }
        )
    for i in count(needs="partner"):
        rows["merchant"].append(
            {
                "partner_id": parent("partner"),
                "name": draw(words),
                "external_ref": f"mrc_{i}",
                "created_at": draw(moments),
            }
        )
    for i in count(needs="merchant"):
        rows["terminal"].append(
            {
                "merchant_id": parent("merchant"),
                "serial": f"T{i}",
                "label": draw(maybe(words)),
                "created_at": draw(moments),
            }
        )
    for _ in count():
        rows["company"].append(
            {"name": draw(words), "tax_id": draw(maybe(words)), "created_at": draw(moments)}
        )
    for i in count(low=1):
        rows["user_account"].append(
            {
                "name": draw(words),
                "email": f"user{i}@example.test",
                # The first user is the admin every query runs as.
                "role": "admin" if i == 0 else draw(values_of(UserRole)),
                "partner_id": link("partner"),
                "company_id": link("company"),
                "locale": draw(st.sampled_from(["en", "es", "pt-BR"])),
                "created_at": draw(moments),
            }
        )
    for _ in count():
        rows["address"].append(
            {
                "company_id": link("company"),
                "name": draw(words),
                "line1": draw(words),
                "city": draw(words),
                "postal_code": draw(maybe(words)),
                "country_code": draw(st.sampled_from(["US", "MX", "DE", "JP"])),
                "created_at": draw(moments),
            }
        )
    for _ in count():
        rows["payment_method"].append(
            {
                "name": draw(words),
                "method_type": draw(values_of(PaymentMethodType)),
                "created_at": draw(moments),
            }
        )
    rates = st.tuples(currencies, currencies, days)
    for base, quote, effective_on in draw(st.lists(rates, max_size=MAX_ROWS, unique=True)):
        rows["fx_rate"].append(
            {
                "base_currency": base,
                "quote_currency": quote,
                "rate_value": draw(st.integers(1, 10**12)),
                "rate_scale": draw(st.integers(0, 18)),
                "effective_on": effective_on,
                "created_at": draw(moments),
            }
        )
    for i in count():
        total = draw(amounts)
        rows["invoice"].append(
            {
                "number": f"INV-{i}",
                "company_id": link("company"),
                "account_id": link("account"),
                "sender_id": link("address"),
                "receiver_id": link("address"),
                "total_amount": total,
                "paid_amount": draw(st.integers(0, total)),
                "currency": draw(currencies),
                "status": draw(values_of(InvoiceStatus)),
                "issued_on": draw(days),
                "due_on": draw(maybe(days)),
                "created_at": draw(moments),
                "updated_at": draw(moments),
            }
        )
    for _ in count():
        kind = draw(st.sampled_from(list(STATUSES_BY_KIND)))
        original = draw(maybe(st.tuples(amounts, currencies)))
        rows["payment"].append(
            {
                "kind": kind.value,
                "status": draw(st.sampled_from(STATUSES_BY_KIND[kind])).value,
                "amount": draw(amounts),
                "currency": draw(currencies),
                "paid_amount": draw(maybe(amounts)),
                "settleable_amount": draw(maybe(amounts)),
                "discount_amount": draw(maybe(amounts)),
                "original_amount": None if original is None else original[0],
                "original_currency": None if original is None else original[1],
                "fx_rate_id": link("fx_rate"),
                "partner_id": link("partner"),
                "merchant_id": link("merchant"),
                "terminal_id": link("terminal"),
                "company_id": link("company"),
                "user_id": link("user_account"),
                "account_id": link("account"),
                "invoice_id": link("invoice"),
                "sender_id": link("address"),
                "receiver_id": link("address"),
                "payment_method_id": link("payment_method"),
                "authorized": draw(st.booleans()),
                "authorized_by_id": link("user_account"),
                "authorized_at": draw(maybe(moments)),
                "manager_id": link("user_account"),
                "document_number": draw(maybe(words)),
                "reference": draw(maybe(words)),
                "tracking_id": draw(maybe(words)),
                "description": draw(maybe(words)),
                "comments": draw(maybe(words)),
                "period_start": draw(maybe(days)),
                "period_end": draw(maybe(days)),
                "cutoff_date": draw(maybe(days)),
                "payment_date": draw(maybe(days)),
                "approved_for_payment_at": draw(maybe(moments)),
                "paid_at": draw(maybe(moments)),
                "sent_at": draw(maybe(moments)),
                "received_at": draw(maybe(moments)),
                "closed_at": draw(maybe(moments)),
                "expiration_date": draw(maybe(moments)),
                "requester_ip": draw(maybe(st.sampled_from(["203.0.113.7", "2001:db8::1"]))),
                "deleted_at": draw(maybe(moments)),
                "version": draw(st.integers(1, 5)),
                "created_at": draw(moments),
                "updated_at": draw(moments),
            }
        )
    for _ in count(needs="payment"):
        rows["payment_detail"].append(
            {
                "payment_id": parent("payment"),
                "partner_id": link("partner"),
                "carrier": draw(words),
                "tracking_number": draw(maybe(words)),
                "shipment_reference": draw(maybe(words)),
                "amount": draw(amounts),
                "currency": draw(currencies),
                "created_at": draw(moments),
            }
        )
    for _ in count(needs="payment"):
        rows["payment_document"].append(
            {
                "payment_id": parent("payment"),
                "document_type": draw(words),
                "status": draw(values_of(DocumentStatus)),
                "required": draw(st.booleans()),
                "rejection_reason": draw(maybe(words)),
                "reviewed_by_id": link("user_account"),
                "reviewed_at": draw(maybe(moments)),
                "file_name": draw(maybe(words)),
                "content_type": draw(maybe(st.just("application/pdf"))),
                "size_bytes": draw(maybe(st.integers(0, 10**9))),
                "sha256": draw(maybe(st.just("ab" * 32))),
                "created_at": draw(moments),
                "updated_at": draw(moments),
            }
        )
    for _ in count():
        rows["accounting_transaction"].append(
            {
                "payment_id": link("payment"),
                "invoice_id": link("invoice"),
                "posting_id": f"posting-{draw(st.integers(0, 2))}",
                "account_code": draw(st.sampled_from(["cash", "receivables", "fees"])),
                "direction": draw(values_of(LedgerDirection)),
                "amount": draw(st.integers(1, 10**12)),
                "currency": draw(currencies),
                "description": draw(maybe(words)),
                "created_at": draw(moments),
            }
        )
    for _ in count(needs="payment"):
        rows["payment_event"].append(
            {
                "payment_id": parent("payment"),
                "actor_id": link("user_account"),
                "actor_label": draw(words),
                "action": draw(st.sampled_from(["create", "authorize", "approve_document"])),
                "from_status": draw(maybe(values_of(PaymentStatus))),
                "to_status": draw(maybe(values_of(PaymentStatus))),
                "comments": draw(maybe(words)),
                "created_at": draw(moments),
            }
        )
    return rows


@dataclass(frozen=True)
class TenantRows:
    """A tenant and the ids its rows received, per table in drawn (insert) order, and
    which of them each view reads."""

    name: str  # A, B or the intruder C, for messages
    tenant_id: int
    ids: dict[str, list[int]]
    views: dict[str, list[int]]  # view type -> the ids it reads

    def __str__(self) -> str:
        return f"tenant {self.name} (id {self.tenant_id})"

    def rank(self, type_name: str, row_id: int) -> int | None:
        """Position of the row among this tenant's rows of its table; None if not ours."""
        ids = sorted(self.ids[TABLE_OF_TYPE[type_name]])
        return ids.index(row_id) if row_id in ids else None

    def rows_of(self, type_name: str) -> list[int]:
        """The rows of a row type or of a view, in rank order."""
        if type_name in VIEWS:
            return sorted(self.views[type_name])
        return sorted(self.ids[TABLE_OF_TYPE[type_name]])

    @property
    def admin(self) -> Principal:
        return admin(self.tenant_id, user_id=self.ids[m.User.__tablename__][0])


async def insert_tenant(engine: AsyncEngine, name: str, rows: Rows) -> TenantRows:
    """A new tenant holding its own copy of `rows`, inserted parents first, in order."""
    tenant_id = await Factory(engine).tenant()
    ids: dict[str, list[int]] = {table: [] for table in rows}
    async with engine.begin() as connection:
        for table_name, table_rows in rows.items():
            table = m.Base.metadata.tables[table_name]
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            for batch in batches(table_name, table_rows):
                values = [
                    {
                        "tenant_id": tenant_id,
                        **{
                            column: ids[value.table][value.index]
                            if isinstance(value, Ref)
                            else value
                            for column, value in row.items()
                        },
                    }
                    for row in batch
                ]
                ids[table_name].extend((await connection.execute(statement, values)).scalars())
    views: dict[str, list[int]] = {}
    for type_name, view in VIEWS.items():
        table = TABLE_OF_TYPE[view.of]
        pairs = zip(rows[table], ids[table], strict=True)
        views[type_name] = [row_id for row, row_id in pairs if row[view.column] == view.value]
    return TenantRows(name, tenant_id, ids, views)


def batches(table: str, rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """`rows` in order, cut into runs that one INSERT each can hold: a run ends before a
    row naming a row of its own table that the run itself inserts (a partner's parent),
    whose id is known only once that run is in. Ids follow the rows' order either way."""
    runs: list[list[dict[str, Any]]] = [[]]
    start = 0  # index of the current run's first row
    for index, row in enumerate(rows):
        if any(isinstance(v, Ref) and v.table == table and v.index >= start for v in row.values()):
            runs.append([])
            start = index
        runs[-1].append(row)
    return [run for run in runs if run]


def intruder_rows(table: str, serial: int) -> list[dict[str, Any]]:
    """Valid rows of a child table but for their tenant and parent key: one, or a payment
    of every kind (in a live status), so that a list narrowed to a kind (a reseller's
    customers' payments) has one to leak too; `serial` keeps the columns unique per
    tenant unique."""
    name = f"intruder-{serial}"
    if table == m.Payment.__tablename__:
        return [
            payment_row(0, kind=kind.value, status=statuses[0].value, reference=name)
            for kind, statuses in STATUSES_BY_KIND.items()
        ]
    row = {
        "partner": {"name": name, "kind": PartnerKind.RESELLER.value, "external_ref": name},
        "account": {"name": name},
        "merchant": {"name": name, "external_ref": name},
        "terminal": {"serial": name},
        "payment_detail": {"carrier": name, "amount": 1, "currency": "USD"},
        "payment_document": {"document_type": name, "status": DocumentStatus.PENDING.value},
        "payment_event": {"actor_label": name, "action": "create"},
        "accounting_transaction": {
            "posting_id": name,
            "account_code": "cash",
            "direction": LedgerDirection.DEBIT.value,
            "amount": 1,
            "currency": "USD",
        },
    }[table]
    return [row]


async def insert_intruder(engine: AsyncEngine, a: TenantRows, b: TenantRows) -> TenantRows:
    """A new tenant C whose rows point into A and B symmetrically: for every nested list
    and every row of A that heads one, a row of C whose foreign key names A's row, and one
    naming B's mirrored row. Were a nested list or count not limited to the caller's
    tenant, A and B would both see C's rows there."""
    tenant_id = await Factory(engine).tenant()
    ids: dict[str, list[int]] = {table: [] for table in TABLE_OF_TYPE.values()}
    async with engine.begin() as connection:
        for child, foreign_key, parent in NESTED:
            table = m.Base.metadata.tables[child]
            victims = [
                row_id for pair in zip(a.ids[parent], b.ids[parent], strict=True) for row_id in pair
            ]
            if not victims:
                continue
            serial = len(ids[child])
            values = [
                {**row, "tenant_id": tenant_id, foreign_key: row_id}
                for i, row_id in enumerate(victims)
                for row in intruder_rows(child, serial + i)
            ]
            result = await connection.execute(insert(table).returning(table.c.id), values)
            ids[child].extend(result.scalars())
    return TenantRows("C", tenant_id, ids, views={})


# ---------------------------------------------------------------------------------------
# Lookups: every object of a tenant through every root field that takes an id


def lookups_of(tenant_rows: Callable[[str], list[int]]) -> list[Lookup]:
    """For every row, in type and rank order, every root lookup that can answer with its
    type: with its global ID, and for a typed lookup (`payment(id)`) its numeric id too;
    a view's rows (a reseller) the same way, with their Node's global ID. Aliases name
    type and rank only, so two tenants' documents share their aliases."""
    lookups = []
    for type_name in [*TABLE_OF_TYPE, *VIEWS]:
        row_type = VIEWS[type_name].of if type_name in VIEWS else type_name
        for rank, row_id in enumerate(tenant_rows(type_name)):
            for field, returns in ROOTS.lookups.items():
                if type_name not in possible_types(GRAPHQL, returns):
                    continue
                given = {"global": encode(row_type, row_id)}
                if returns.name == type_name:
                    given["database"] = str(row_id)
                for form, text in given.items():
                    alias = f"{field}_{type_name}_{rank}_{form}"
                    lookups.append(Lookup(alias, field, text, type_name))
    return lookups


# ---------------------------------------------------------------------------------------
# Answers with ids replaced by ranks, refusing any row that is not the caller's


def row_named(leaf: Leaf) -> tuple[str, int] | None:
    """The (type, row id) a leaf names, or None for a leaf that names no row; a view's
    ids name rows of the Node type it reads."""
    row_type = VIEWS[leaf.owner].of if leaf.owner in VIEWS else leaf.owner
    if leaf.field == "id" and (row_type in NODE_TYPE_NAMES or leaf.owner == "Node"):
        decoded = decode_token(leaf.value)
        assert decoded is not None and decoded[0] in NODE_TYPE_NAMES, f"bad global ID {leaf}"
        assert leaf.owner == "Node" or decoded[0] == row_type, f"{leaf} names a {decoded[0]}"
        return decoded
    if leaf.field == "databaseId" and row_type in TABLE_OF_TYPE:
        return row_type, leaf.value
    if leaf.field in CURSOR_FIELDS:
        assert leaf.connection_node is not None, f"a cursor outside a connection: {leaf}"
        row_id = cursor_row_id(leaf.value)
        assert row_id is not None
        return leaf.connection_node, row_id
    assert leaf.scalar != "ID", f"{leaf.owner}.{leaf.field} is an ID this test cannot place"
    assert "cursor" not in leaf.field.lower(), f"{leaf.owner}.{leaf.field} looks like a cursor"
    return None


def normalized(
    document: str, data: dict[str, Any], own: TenantRows, others: Sequence[TenantRows]
) -> Any:
    """`data` with every id, database id and cursor replaced by (type, rank), after
    checking that each names a row of `own`; the caller's tenant becomes a placeholder."""

    def replace(leaf: Leaf) -> Any:
        if leaf.owner == "Tenant":
            if leaf.field == "id":
                assert leaf.value == str(own.tenant_id), f"{own} sees tenant {leaf.value}"
            return "<own tenant>"
        named = row_named(leaf)
        if named is None:
            return leaf.value
        type_name, row_id = named
        rank = own.rank(type_name, row_id)
        owners = [f"{other}'s" for other in others if other.rank(type_name, row_id) is not None]
        whose = owners[0] if owners else f"a row of none of {', '.join(map(str, others))}"
        assert rank is not None, (
            f"{own} sees {type_name} row {row_id}, {whose}, at "
            f"{'.'.join(map(str, leaf.path))} ({leaf.owner}.{leaf.field} = {leaf.value!r})"
        )
        return (type_name, rank)

    return map_leaves(GRAPHQL, document, data, replace)


def connections(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every connection in an answer, with its path."""
    if isinstance(value, dict):
        if {"totalCount", "pageInfo", "edges", "nodes"} <= value.keys():
            yield path, value
        for key, item in value.items():
            yield from connections(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from connections(item, f"{path}.{index}")


def assert_whole_lists_counted_exactly(answer: Any, own: TenantRows) -> None:
    """No list here exceeds one page, so each connection holds its whole list: the count
    must be the number of rows shown (all the caller's), and cursors must match them."""
    for path, connection in connections(answer):
        rows = [node["id"] for node in connection["nodes"]]
        assert [edge["cursor"] for edge in connection["edges"]] == rows, path
        assert connection["totalCount"] == len(rows), (
            f"{own}: {path}.totalCount is {connection['totalCount']}, but the list shows "
            f"{len(rows)} row(s), all its own: the count must count the caller's rows only"
        )
        assert connection["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": rows[0] if rows else None,
            "endCursor": rows[-1] if rows else None,
        }, path


async def own_answer(
    engine: AsyncEngine, document: str, own: TenantRows, others: Sequence[TenantRows]
) -> Any:
    """`own`'s admin's answer, normalized so that it can be compared with the mirrored
    tenant's; fails on an error, on any row not `own`'s, and on an inexact count."""
    result = await execute(engine, document, own.admin)
    assert result.errors is None, result.errors
    answer = normalized(document, result.data, own, others)
    assert_whole_lists_counted_exactly(answer, own)
    return answer


def assert_root_lists_hold_every_own_row(answer: dict[str, Any], own: TenantRows) -> None:
    """A root list's count is only exact if the list is complete: every row, in order."""
    for name, row_type in ROOTS.connections.items():
        expected = [{"id": (row_type, rank)} for rank in range(len(own.rows_of(row_type)))]
        assert answer[name]["nodes"] == expected, name


def is_nullable(root_field: str) -> bool:
    assert GRAPHQL.query_type is not None
    return not isinstance(GRAPHQL.query_type.fields[root_field].type, GraphQLNonNull)


async def assert_foreign_objects_look_missing(
    engine: AsyncEngine, caller: TenantRows, owner: TenantRows
) -> None:
    """Every lookup of `owner`'s objects, asked as `caller`, fails like the same lookup of
    an id that exists nowhere: same code and field, same message but for the id. A lookup
    whose root field is non-null (`reseller(id)`) nulls the whole answer when it fails,
    so each of those is asked in an operation of its own."""
    foreign = lookups_of(owner.rows_of)
    missing = lookups_of(lambda type_name: [MISSING_ROW_ID] * len(owner.rows_of(type_name)))
    pairs = [
        (
            Lookup(f"foreign_{theirs.alias}", theirs.field, theirs.given, theirs.type_name),
            Lookup(f"missing_{nowhere.alias}", nowhere.field, nowhere.given, nowhere.type_name),
        )
        for theirs, nowhere in zip(foreign, missing, strict=True)
    ]
    operations = [[lookup for pair in pairs if is_nullable(pair[0].field) for lookup in pair]]
    operations += [[lookup] for pair in pairs if not is_nullable(pair[0].field) for lookup in pair]
    answers: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    for lookups in operations:
        if not lookups:
            continue
        result = await execute(engine, lookups_document(lookups, GRAPHQL), caller.admin)
        for lookup in lookups:
            answers[lookup.alias] = None if result.data is None else result.data[lookup.alias]
        for error in result.errors or []:
            errors.setdefault(error.path[0], []).append(error)
    for theirs, nowhere in pairs:
        asked = f"{theirs.field}(id: {theirs.given!r}) as tenant {caller.tenant_id}"
        found = answers[theirs.alias]
        assert found is None, f"{asked} finds tenant {owner.tenant_id}'s {found}"
        [their_error] = errors.pop(theirs.alias, [None])
        [nowhere_error] = errors.pop(nowhere.alias)
        assert their_error is not None, f"{asked} answers null without an error"
        expected = "PARTNER_NOT_FOUND" if theirs.field == "partner" else "NOT_FOUND"
        assert their_error.extensions["code"] == expected, their_error
        assert their_error.extensions == nowhere_error.extensions, asked
        their_message = their_error.message.replace(theirs.given, "<id>")
        assert their_message == nowhere_error.message.replace(nowhere.given, "<id>"), asked
    assert errors == {}


# ---------------------------------------------------------------------------------------
# The tests


def test_the_mirrored_data_has_a_table_for_every_node_type() -> None:
    """A new Node type must get rows here, or the property would not look at it; so must
    any other object type that names a row by a database id (a row type or a view)."""
    assert set(TABLE_OF_TYPE) == NODE_TYPE_NAMES | ROW_TYPES
    assert not ROW_TYPES & NODE_TYPE_NAMES
    assert set(TABLE_OF_TYPE.values()) <= set(m.Base.metadata.tables)
    naming_rows = {
        name
        for name, named in GRAPHQL.type_map.items()
        if isinstance(named, GraphQLObjectType) and "databaseId" in named.fields
    }
    assert naming_rows == NODE_TYPE_NAMES | ROW_TYPES | set(VIEWS)
    for view in VIEWS.values():
        assert view.of in NODE_TYPE_NAMES
        assert view.column in m.Base.metadata.tables[TABLE_OF_TYPE[view.of]].c


def test_the_intruder_reaches_every_nested_list() -> None:
    """Every nested list hangs off rows this test draws, and the intruder has a row of
    its own to hang there (a new nested list must be taught to `intruder_rows`)."""
    for child, _foreign_key, parent in NESTED:
        assert {child, parent} <= set(TABLE_OF_TYPE.values())
        assert intruder_rows(child, 0)


def test_the_generated_operations_are_valid_and_call_every_root_field() -> None:
    """The walk covers the root fields by kind; a root field it cannot classify fails in
    `root_fields`, and every generated operation must pass validation."""
    assert GRAPHQL.query_type is not None
    assert set(ROOTS.connections) | set(ROOTS.lookups) | set(ROOTS.others) == set(
        GRAPHQL.query_type.fields
    )
    every_row = lookups_of(lambda _type_name: [1])
    assert {lookup.field for lookup in every_row} == set(ROOTS.lookups)
    assert {lookup.type_name for lookup in every_row} == NODE_TYPE_NAMES | set(VIEWS)
    for document in (LISTS, lookups_document(every_row, GRAPHQL)):
        assert validate(GRAPHQL, parse(document)) == []


# 15 examples take about 10 s per backend: each builds two fresh tenants of up to 60
# rows, an intruder of up to 232 rows (inserted a table at a time), and runs four
# operations, then two with up to 176 aliased lookups and one per reseller lookup.
@settings(max_examples=15, deadline=None)
@given(rows=mirrored_rows())
async def test_mirrored_tenants_get_mirrored_answers_and_never_each_others_rows(
    engine: AsyncEngine, rows: Rows
) -> None:
    a = await insert_tenant(engine, "A", rows)
    b = await insert_tenant(engine, "B", rows)
    c = await insert_intruder(engine, a, b)

    # Every root list and the viewer: A's rows only, each counted once, mirroring B.
    lists_a = await own_answer(engine, LISTS, a, (b, c))
    lists_b = await own_answer(engine, LISTS, b, (a, c))
    assert_root_lists_hold_every_own_row(lists_a, a)
    assert lists_a == lists_b

    # Every object of A (the lists above showed none that A did not insert) by every root
    # lookup, with every field and one hop along every edge, so every nested list, each
    # of which also holds C's rows in the database: still A's rows only, counted exactly,
    # still mirroring B.
    lookups_a = await own_answer(
        engine, lookups_document(lookups_of(a.rows_of), GRAPHQL), a, (b, c)
    )
    lookups_b = await own_answer(
        engine, lookups_document(lookups_of(b.rows_of), GRAPHQL), b, (a, c)
    )
    assert lookups_a == lookups_b

    # Each tenant's objects, asked for by the other, do not exist, and say so exactly like
    # ids that exist nowhere.
    await assert_foreign_objects_look_missing(engine, caller=a, owner=b)
    await assert_foreign_objects_look_missing(engine, caller=b, owner=a)
