"""The naive peer: the Strawberry server most Python GraphQL APIs start as. Every resolver
runs its own SELECT on its own pooled connection (one per relation per row, the N+1
pattern), with no dataloaders and nothing cached between requests.

It answers PayGraph's W1-W3 documents (bench/queries) unchanged: its schema is the part of
PayGraph's that they touch, with the same names, and the same arguments give the same
JSON (ids, order, cursors, values), so the benchmark compares like with like. Tenant
`NAIVE_TENANT` (1 by default) is the only scope; the Authorization header is ignored.

`serving(database_url)` runs it as one uvicorn process, with the options `paygraph serve`
uses, until the block ends.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, NewType

import httpx
import strawberry
from sqlalchemy import (
    Row,
    Table,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import ColumnElement, Select
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry import relay
from strawberry.asgi import GraphQL

from bench.servers import Server, free_port, wait_until_ready

# ISO 4217 exponents and numeric codes: static reference data (the rows of the database's
# `currency` table come from the same table), so a lookup rather than a query.
from db.models import Base
from domain import statuses
from domain.currencies import ISO_4217

ROOT = Path(__file__).resolve().parents[2]
MAX_PAGE_SIZE = 200
DEFAULT_FIRST = 50

# --- tables: the project's own, as a team would reuse its models ---

T = Base.metadata.tables
payment, partner, merchant, terminal = T["payment"], T["partner"], T["merchant"], T["terminal"]
invoice, address, payment_method = T["invoice"], T["address"], T["payment_method"]
payment_detail, payment_document = T["payment_detail"], T["payment_document"]


# --- per-request context and the one-query-per-call helpers ---


@dataclass(frozen=True, slots=True)
class Context:
    engine: AsyncEngine
    tenant: int


Info = strawberry.Info[Context, None]


async def fetch_all(info: Info, statement: Select[Any]) -> Sequence[Row[Any]]:
    """One statement on a connection of its own, as each resolver does."""
    async with info.context.engine.connect() as connection:
        rows: Sequence[Row[Any]] = (await connection.execute(statement)).all()
    return rows


async def fetch_one(info: Info, statement: Select[Any]) -> Row[Any] | None:
    async with info.context.engine.connect() as connection:
        row: Row[Any] | None = (await connection.execute(statement)).first()
    return row


def of_tenant(info: Info, table: Table) -> ColumnElement[bool]:
    return table.c.tenant_id == info.context.tenant


def checked_size(size: int, name: str, minimum: int = 0) -> int:
    if not minimum <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"`{name}` must be between {minimum} and {MAX_PAGE_SIZE}.")
    return size


def as_utc(moment: datetime | None) -> datetime | None:
    """A moment without an offset is UTC, as in PayGraph."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# --- scalars, enums and money ---

BigInt = strawberry.scalar(
    NewType("BigInt", int),
    name="BigInt",
    description="A signed 64-bit integer, serialized as a JSON string.",
    serialize=str,
    parse_value=int,
)


# The domain's own enums, as a team would reuse them (GraphQL names and values as PayGraph's).
PaymentKind = strawberry.enum(statuses.PaymentKind)
PaymentStatus = strawberry.enum(statuses.PaymentStatus)
DocumentStatus = strawberry.enum(statuses.DocumentStatus)


@strawberry.enum
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum
class PaymentSortField(Enum):
    """The value names the column."""

    ID = "id"
    KIND = "kind"
    STATUS = "status"
    AMOUNT = "amount"
    CURRENCY = "currency"
    REFERENCE = "reference"
    PAYMENT_DATE = "payment_date"
    PERIOD_START = "period_start"
    PERIOD_END = "period_end"
    PAID_AT = "paid_at"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.enum
class PortfolioSortField(Enum):
    CREATED = "created_at"
    UPDATED = "updated_at"
    AMOUNT = "amount"
    STATUS = "status"


@strawberry.enum
class PaymentGroupKey(Enum):
    MERCHANT = "merchant_id"
    TERMINAL = "terminal_id"
    CURRENCY = "currency"
    STATUS = "status"
    KIND = "kind"
    DAY = "day"
    MONTH = "month"


@strawberry.type
class Money:
    amount: BigInt  # type: ignore[valid-type]
    currency: str
    precision: int
    currency_numeric: int

    @classmethod
    def of(cls, amount: int | None, currency: str) -> Money | None:
        if amount is None:
            return None
        iso = ISO_4217[currency]
        return cls(
            amount=amount, currency=currency, precision=iso.exponent, currency_numeric=iso.numeric
        )


@strawberry.type
class CurrencyAmount:
    amount: BigInt  # type: ignore[valid-type]
    amount_precision: int
    currency_id: int


@strawberry.type
class PaymentAmount:
    in_payment_currency: CurrencyAmount
    money: Money

    @classmethod
    def of(cls, amount: int | None, currency: str) -> PaymentAmount | None:
        money = Money.of(amount, currency)
        if money is None:
            return None
        shape = CurrencyAmount(
            amount=money.amount,
            amount_precision=money.precision,
            currency_id=money.currency_numeric,
        )
        return cls(in_payment_currency=shape, money=money)


@strawberry.type
class PaymentAmounts:
    requested: PaymentAmount
    paid: PaymentAmount | None
    settleable: PaymentAmount | None


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


# --- the parties a payment points at ---


@strawberry.type
class NodeRow(relay.Node):
    """What every row type has: its global `id` and its `databaseId`."""

    id: relay.NodeID[int]

    @strawberry.field
    def database_id(self) -> int:
        return self.id


@strawberry.type
class Partner(NodeRow):
    name: str

    @strawberry.field
    async def payments(
        self,
        page: int = 0,
        page_size: int = 50,
        sort_by: PortfolioSortField = PortfolioSortField.CREATED,
        sort_direction: SortDirection = SortDirection.DESC,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        status: PaymentStatus | None = None,
    ) -> PortfolioPage:
        """Document 001's list: the partner's acquiring payments created in the window
        (both bounds inclusive). Nothing is read until a field of the page asks."""
        if page < 0:
            raise ValueError("`page` must be at least 0.")
        checked_size(page_size, "pageSize", minimum=1)
        return PortfolioPage(
            page=page,
            page_size=page_size,
            partner_id=self.id,
            sort_column=sort_by.value,
            descending=sort_direction is SortDirection.DESC,
            from_date=as_utc(from_date),
            to_date=as_utc(to_date),
            status=status,
        )


@strawberry.type
class Merchant(NodeRow):
    name: str


@strawberry.type
class Terminal(NodeRow):
    serial: str


@strawberry.type
class Invoice(NodeRow):
    number: str


@strawberry.type
class Address(NodeRow):
    name: str
    city: str


@strawberry.type
class PaymentMethod(NodeRow):
    name: str


async def by_id(info: Info, table: Table, row_id: int | None, make: Any, *names: str) -> Any:
    """One row of `table` by id, in its own query (the N+1 on purpose), as `make(**row)`."""
    if row_id is None:
        return None
    columns = [table.c.id, *(table.c[name] for name in names)]
    statement = select(*columns).where(of_tenant(info, table), table.c.id == row_id)
    row = await fetch_one(info, statement)
    return None if row is None else make(**row._mapping)


async def merchant_by_id(info: Info, merchant_id: int | None) -> Merchant | None:
    return await by_id(info, merchant, merchant_id, Merchant, "name")  # type: ignore[no-any-return]


async def terminal_by_id(info: Info, terminal_id: int | None) -> Terminal | None:
    return await by_id(info, terminal, terminal_id, Terminal, "serial")  # type: ignore[no-any-return]


async def address_by_id(info: Info, address_id: int | None) -> Address | None:
    return await by_id(info, address, address_id, Address, "name", "city")  # type: ignore[no-any-return]


# --- a payment's child rows ---


@strawberry.type
class PaymentDetail(NodeRow):
    carrier: str
    tracking_number: str | None
    amount_minor: strawberry.Private[int]
    currency: strawberry.Private[str]

    @strawberry.field
    def amount(self) -> Money:
        return Money.of(self.amount_minor, self.currency)  # type: ignore[return-value]


@strawberry.type
class PaymentDocument(NodeRow):
    document_type: str
    status: DocumentStatus


@strawberry.type
class PaymentDetailConnection:
    nodes: list[PaymentDetail]
    page_info: PageInfo


@strawberry.type
class PaymentDocumentConnection:
    nodes: list[PaymentDocument]
    page_info: PageInfo


def child_page_info(rows: Sequence[Row[Any]], size: int) -> PageInfo:
    """A child list ordered by id alone: its cursors are a bare `cursor:<id>`."""
    shown = rows[:size]
    return PageInfo(
        has_next_page=len(rows) > size,
        has_previous_page=False,
        start_cursor=encode("cursor", shown[0].id) if shown else None,
        end_cursor=encode("cursor", shown[-1].id) if shown else None,
    )


# --- payments ---


@strawberry.type
class Payment(NodeRow):
    kind: PaymentKind
    status: PaymentStatus
    currency: str
    reference: str | None
    created_at: datetime
    amount_minor: strawberry.Private[int]
    paid_amount: strawberry.Private[int | None]
    settleable_amount: strawberry.Private[int | None]
    partner_id: strawberry.Private[int | None]
    merchant_id: strawberry.Private[int | None]
    terminal_id: strawberry.Private[int | None]
    invoice_id: strawberry.Private[int | None]
    sender_id: strawberry.Private[int | None]
    receiver_id: strawberry.Private[int | None]
    payment_method_id: strawberry.Private[int | None]

    @classmethod
    def of(cls, row: Row[Any]) -> Payment:
        return cls(
            id=row.id,
            kind=PaymentKind(row.kind),
            status=PaymentStatus(row.status),
            currency=row.currency,
            reference=row.reference,
            created_at=row.created_at,
            amount_minor=row.amount,
            paid_amount=row.paid_amount,
            settleable_amount=row.settleable_amount,
            partner_id=row.partner_id,
            merchant_id=row.merchant_id,
            terminal_id=row.terminal_id,
            invoice_id=row.invoice_id,
            sender_id=row.sender_id,
            receiver_id=row.receiver_id,
            payment_method_id=row.payment_method_id,
        )

    @strawberry.field
    def amount(self) -> Money:
        return Money.of(self.amount_minor, self.currency)  # type: ignore[return-value]

    @strawberry.field
    def amounts(self) -> PaymentAmounts:
        return PaymentAmounts(
            requested=PaymentAmount.of(self.amount_minor, self.currency),  # type: ignore[arg-type]
            paid=PaymentAmount.of(self.paid_amount, self.currency),
            settleable=PaymentAmount.of(self.settleable_amount, self.currency),
        )

    @strawberry.field
    async def partner(self, info: Info) -> Partner | None:
        return await by_id(info, partner, self.partner_id, Partner, "name")  # type: ignore[no-any-return]

    @strawberry.field
    async def merchant(self, info: Info) -> Merchant | None:
        return await merchant_by_id(info, self.merchant_id)

    @strawberry.field
    async def terminal(self, info: Info) -> Terminal | None:
        return await terminal_by_id(info, self.terminal_id)

    @strawberry.field
    async def invoice(self, info: Info) -> Invoice | None:
        return await by_id(info, invoice, self.invoice_id, Invoice, "number")  # type: ignore[no-any-return]

    @strawberry.field
    async def sender(self, info: Info) -> Address | None:
        return await address_by_id(info, self.sender_id)

    @strawberry.field
    async def receiver(self, info: Info) -> Address | None:
        return await address_by_id(info, self.receiver_id)

    @strawberry.field
    async def payment_method(self, info: Info) -> PaymentMethod | None:
        return await by_id(info, payment_method, self.payment_method_id, PaymentMethod, "name")  # type: ignore[no-any-return]

    @strawberry.field
    async def details(self, info: Info, first: int | None = None) -> PaymentDetailConnection:
        """The payment's detail rows in id order, one query per payment."""
        size = checked_size(DEFAULT_FIRST if first is None else first, "first")
        rows = await fetch_all(
            info,
            select(
                payment_detail.c.id,
                payment_detail.c.carrier,
                payment_detail.c.tracking_number,
                payment_detail.c.amount,
                payment_detail.c.currency,
            )
            .where(of_tenant(info, payment_detail), payment_detail.c.payment_id == self.id)
            .order_by(payment_detail.c.id)
            .limit(size + 1),
        )
        return PaymentDetailConnection(
            nodes=[
                PaymentDetail(
                    id=row.id,
                    carrier=row.carrier,
                    tracking_number=row.tracking_number,
                    amount_minor=row.amount,
                    currency=row.currency,
                )
                for row in rows[:size]
            ],
            page_info=child_page_info(rows, size),
        )

    @strawberry.field
    async def documents(self, info: Info, first: int | None = None) -> PaymentDocumentConnection:
        """The payment's documents, oldest (lowest id) first, one query per payment."""
        size = checked_size(DEFAULT_FIRST if first is None else first, "first")
        rows = await fetch_all(
            info,
            select(
                payment_document.c.id, payment_document.c.document_type, payment_document.c.status
            )
            .where(of_tenant(info, payment_document), payment_document.c.payment_id == self.id)
            .order_by(payment_document.c.id)
            .limit(size + 1),
        )
        return PaymentDocumentConnection(
            nodes=[
                PaymentDocument(
                    id=row.id, document_type=row.document_type, status=DocumentStatus(row.status)
                )
                for row in rows[:size]
            ],
            page_info=child_page_info(rows, size),
        )


PAYMENT_NAMES = (
    "id",
    "kind",
    "status",
    "currency",
    "reference",
    "created_at",
    "amount",
    "paid_amount",
    "settleable_amount",
    "partner_id",
    "merchant_id",
    "terminal_id",
    "invoice_id",
    "sender_id",
    "receiver_id",
    "payment_method_id",
)
PAYMENT_COLUMNS = [payment.c[name] for name in PAYMENT_NAMES]


# --- cursors: PayGraph's format, so that pageInfo compares equal ---


def encode(kind: str, value: object) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def cursor_of(row: Row[Any], order: Sequence[tuple[str, bool]]) -> str:
    """`cursor:<id>` for id order, else `cursor:<id>:<json>` with the order's signature
    and the row's sort-key values (PayGraph's resolvers/cursors.py)."""
    if all(column == "id" and not descending for column, descending in order):
        return encode("cursor", row.id)
    keys = order[:-1] if order[-1][0] == "id" else order
    signature = ",".join(f"{column}{'-' if descending else '+'}" for column, descending in order)
    values = [_json_value(getattr(row, column)) for column, _ in keys]
    payload = json.dumps([signature, values], separators=(",", ":"))
    return encode("cursor", f"{row.id}:{payload}")


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def with_tiebreak(keys: Sequence[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The keys up to the first on id, then id ascending if no key was on id."""
    order: list[tuple[str, bool]] = []
    for column, descending in keys:
        order.append((column, descending))
        if column == "id":
            return order
    return [*order, ("id", False)]


def order_terms(order: Sequence[tuple[str, bool]]) -> list[Any]:
    # PostgreSQL puts NULLs last ascending and first descending, as PayGraph orders them.
    return [payment.c[column].desc() if desc else payment.c[column].asc() for column, desc in order]


@strawberry.input
class PaymentSort:
    field: PaymentSortField
    direction: SortDirection = SortDirection.ASC


@strawberry.type
class PaymentConnection:
    nodes: list[Payment]
    page_info: PageInfo


# --- document 001: a partner's payments, their count and their groups ---


@strawberry.type
class CurrencyMeasure:
    currency: str
    count: int
    amount: Money | None
    paid_amount: Money | None
    settleable_amount: Money | None


@strawberry.type
class PaymentGroupKeys:
    values: strawberry.Private[dict[PaymentGroupKey, Any]]

    @strawberry.field
    async def merchant(self, info: Info) -> Merchant | None:
        return await merchant_by_id(info, self.values.get(PaymentGroupKey.MERCHANT))

    @strawberry.field
    async def terminal(self, info: Info) -> Terminal | None:
        return await terminal_by_id(info, self.values.get(PaymentGroupKey.TERMINAL))

    @strawberry.field
    def currency(self) -> str | None:
        return self.values.get(PaymentGroupKey.CURRENCY)

    @strawberry.field
    def status(self) -> PaymentStatus | None:
        value = self.values.get(PaymentGroupKey.STATUS)
        return None if value is None else PaymentStatus(value)

    @strawberry.field
    def kind(self) -> PaymentKind | None:
        value = self.values.get(PaymentGroupKey.KIND)
        return None if value is None else PaymentKind(value)

    @strawberry.field
    def day(self) -> date | None:
        value = self.values.get(PaymentGroupKey.DAY)
        return None if value is None else date.fromisoformat(value)

    @strawberry.field
    def month(self) -> str | None:
        return self.values.get(PaymentGroupKey.MONTH)


@strawberry.type
class PaymentGroup:
    keys: PaymentGroupKeys
    sum: list[CurrencyMeasure]

    @strawberry.field
    def count(self) -> int:
        return sum(measure.count for measure in self.sum)


@strawberry.type
class PaymentGroupPage:
    nodes: list[PaymentGroup]
    has_next_page: bool
    has_previous_page: bool


def group_column(key: PaymentGroupKey) -> ColumnElement[Any]:
    if key is PaymentGroupKey.DAY:
        return func.to_char(func.timezone("UTC", payment.c.created_at), "YYYY-MM-DD")
    if key is PaymentGroupKey.MONTH:
        return func.to_char(func.timezone("UTC", payment.c.created_at), "YYYY-MM")
    column: ColumnElement[Any] = payment.c[key.value]
    return column


def summed(value: Any, currency: str) -> Money | None:
    """PostgreSQL sums BIGINTs as NUMERIC; NULL when no row had a value."""
    return None if value is None else Money.of(int(value), currency)


@strawberry.type
class PortfolioPage:
    page: int
    page_size: int
    partner_id: strawberry.Private[int]
    sort_column: strawberry.Private[str]
    descending: strawberry.Private[bool]
    from_date: strawberry.Private[datetime | None]
    to_date: strawberry.Private[datetime | None]
    status: strawberry.Private[PaymentStatus | None]

    def conditions(self, info: Info) -> list[ColumnElement[bool]]:
        found = [
            of_tenant(info, payment),
            payment.c.partner_id == self.partner_id,
            payment.c.kind == PaymentKind.ACQUIRING.value,
        ]
        if self.from_date is not None:
            found.append(payment.c.created_at >= self.from_date)
        if self.to_date is not None:
            found.append(payment.c.created_at <= self.to_date)
        if self.status is not None:
            found.append(payment.c.status == self.status.value)
        return found

    @strawberry.field
    async def data(self, info: Info) -> list[Payment]:
        order = with_tiebreak([(self.sort_column, self.descending)])
        rows = await fetch_all(
            info,
            select(*PAYMENT_COLUMNS)
            .where(*self.conditions(info))
            .order_by(*order_terms(order))
            .offset(self.page * self.page_size)
            .limit(self.page_size),
        )
        return [Payment.of(row) for row in rows]

    @strawberry.field
    async def total(self, info: Info) -> int:
        row = await fetch_one(info, select(func.count()).where(*self.conditions(info)))
        assert row is not None
        return int(row[0])

    @strawberry.field
    async def group_by(
        self, info: Info, by: list[PaymentGroupKey], first: int = 50, offset: int = 0
    ) -> PaymentGroupPage:
        """One GROUP BY over the keys and the currency, in key order (NULLs last), then
        the page of groups cut in Python."""
        if not by or offset < 0:
            raise ValueError("`by` needs a key and `offset` must not be negative.")
        checked_size(first, "first", minimum=1)
        keys = list(dict.fromkeys(by))
        columns = [group_column(key).label(f"k{index}") for index, key in enumerate(keys)]
        grouping = [column.element for column in columns]
        rows = await fetch_all(
            info,
            select(
                *columns,
                payment.c.currency,
                func.count().label("n"),
                func.sum(payment.c.amount).label("amount"),
                func.sum(payment.c.paid_amount).label("paid"),
                func.sum(payment.c.settleable_amount).label("settleable"),
            )
            .where(*self.conditions(info))
            .group_by(*grouping, payment.c.currency)
            .order_by(*(c.asc().nulls_last() for c in grouping), payment.c.currency),
        )
        groups: dict[tuple[Any, ...], list[CurrencyMeasure]] = {}
        for row in rows:
            values = tuple(row[: len(keys)])
            groups.setdefault(values, []).append(
                CurrencyMeasure(
                    currency=row.currency,
                    count=row.n,
                    amount=summed(row.amount, row.currency),
                    paid_amount=summed(row.paid, row.currency),
                    settleable_amount=summed(row.settleable, row.currency),
                )
            )
        listed = list(groups.items())
        return PaymentGroupPage(
            nodes=[
                PaymentGroup(
                    keys=PaymentGroupKeys(values=dict(zip(keys, values, strict=True))),
                    sum=sorted(measures, key=lambda measure: measure.currency),
                )
                for values, measures in listed[offset : offset + first]
            ],
            has_next_page=len(listed) > offset + first,
            has_previous_page=offset > 0,
        )


# --- the root ---


def row_id(type_name: str, given: str) -> int:
    """A numeric database id, or the row id inside a global ID of `type_name`."""
    if given.isascii() and given.isdigit():
        return int(given)
    try:
        kind, _, value = base64.b64decode(given).decode().partition(":")
    except ValueError:
        kind, value = "", ""
    if kind != type_name or not value.isdigit():
        raise ValueError(f"No {type_name} has the ID {given!r}.")
    return int(value)


@strawberry.type
class Query:
    @strawberry.field
    async def payments(
        self, info: Info, sort: list[PaymentSort] | None = None, first: int | None = None
    ) -> PaymentConnection:
        """The tenant's payments of every kind and status, in the sort keys' order with id
        ascending breaking ties."""
        size = checked_size(DEFAULT_FIRST if first is None else first, "first")
        order = with_tiebreak(
            [(key.field.value, key.direction is SortDirection.DESC) for key in sort or []]
        )
        sort_columns = [payment.c[c] for c, _ in order if c not in PAYMENT_NAMES]
        rows = await fetch_all(
            info,
            select(*PAYMENT_COLUMNS, *sort_columns)
            .where(of_tenant(info, payment))
            .order_by(*order_terms(order))
            .limit(size + 1),
        )
        shown = rows[:size]
        return PaymentConnection(
            nodes=[Payment.of(row) for row in shown],
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                has_previous_page=False,
                start_cursor=cursor_of(shown[0], order) if shown else None,
                end_cursor=cursor_of(shown[-1], order) if shown else None,
            ),
        )

    @strawberry.field
    async def partner(self, info: Info, id: strawberry.ID) -> Partner | None:
        row = await fetch_one(
            info,
            select(partner.c.id, partner.c.name).where(
                of_tenant(info, partner), partner.c.id == row_id("Partner", id)
            ),
        )
        return None if row is None else Partner(id=row.id, name=row.name)


schema = strawberry.Schema(query=Query)


# --- the ASGI app ---


def async_url(url: str) -> str:
    """`postgresql://` or `postgresql+asyncpg://`: always asyncpg."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


class NaiveGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app; the context is the process's engine and the tenant."""

    engine: AsyncEngine | None = None
    tenant = 1

    async def get_context(self, request: Any, response: Any) -> Context:
        assert self.engine is not None, "the lifespan creates the engine"
        return Context(self.engine, self.tenant)


graphql = NaiveGraphQL(schema, graphql_ide=None, allow_queries_via_get=False)


@contextlib.asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    """One engine per process with an ordinary pool (PayGraph's sizes and settings, in
    autocommit as PayGraph reads, so that only the query pattern differs)."""
    engine = create_async_engine(
        async_url(os.environ["DATABASE_URL"]),
        pool_size=20,
        max_overflow=0,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
    )
    graphql.engine = engine
    graphql.tenant = int(os.environ.get("NAIVE_TENANT", "1"))
    try:
        yield
    finally:
        await engine.dispose()


app = Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])], lifespan=lifespan)


@contextlib.contextmanager
def serving(database_url: str, tenant: int = 1) -> Iterator[Server]:
    """The naive server on `database_url` as one uvicorn process, with `paygraph serve`'s
    uvicorn options (default loop and http: uvloop and httptools; log level info; proxy
    headers off), until the block ends."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "NAIVE_TENANT": str(tenant)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.peers.naive:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
            "--no-proxy-headers",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        probe = {"query": "{ __typename }"}
        wait_until_ready(process, lambda: httpx.post(f"{url}/graphql", json=probe), "naive")
        yield Server(process.pid, url, token="")
    finally:
        process.terminate()
        process.wait(timeout=30)
