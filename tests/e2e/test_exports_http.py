"""POST /exports/payments over real HTTP: a running server on each backend, signed tokens
and manager API tokens, the response read as a stream. CSV and NDJSON carry the same
rows as `payments(filter:)` over /graphql, within the caller's read scope; bad input and
bad credentials are refused with GraphQL-shaped JSON before anything streams."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.permissions import MANAGE_PAYMENTS, VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from gateway.auth import mint_token
from gateway.settings import Settings
from resolvers.cursors import encode
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.e2e.test_scopes_http import create_manager
from tests.factories import BASE_TIME, Factory
from tests.integration.test_document_lists import bulk_payments
from tests.scoped_graphs import SiblingPartners, reseller_tree, sibling_partners

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
EXPORT_PATH = "/exports/payments"
FORMATS = ("csv", "ndjson")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
DEFAULT_COLUMNS = [
    "databaseId",
    "id",
    "kind",
    "status",
    "amount",
    "paidAmount",
    "settleableAmount",
    "currency",
    "reference",
    "partner",
    "merchant",
    "terminal",
    "invoice",
    "paymentDate",
    "createdAt",
    "updatedAt",
    "paidAt",
]


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


# --- helpers ------------------------------------------------------------------------------


@dataclass
class Caller:
    """A tenant and a user of it: the gateway refuses tokens naming users it lacks."""

    tenant_id: int
    admin_id: int


def token(
    of: Caller | KnownRows | SortRows | FilterRows | SiblingPartners,
    *permissions: str,
    partner_id: int | None = None,
    user_id: int | None = None,
    settings: Settings = SETTINGS,
    ttl_seconds: int = 3600,
) -> str:
    """A token of `of`'s tenant, for its admin unless `user_id` names another user."""
    return mint_token(
        settings,
        tenant_id=of.tenant_id,
        user_id=of.admin_id if user_id is None else user_id,
        permissions=permissions,
        partner_id=partner_id,
        ttl_seconds=ttl_seconds,
    )


def bearer(jwt: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt}"}


def at(minutes: float) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)


@dataclass
class Exported:
    """A whole export response, read from its stream."""

    status: int
    headers: httpx.Headers
    body: bytes

    def error(self) -> dict[str, Any]:
        """The one error of a refusal, after checking the GraphQL error shape."""
        assert self.headers["content-type"].startswith("application/json"), self.body[:200]
        answer = json.loads(self.body)
        assert answer["data"] is None
        [error] = answer["errors"]
        assert isinstance(error["message"], str) and error["message"]
        assert error["extensions"]["requestId"] == self.headers["x-request-id"]
        assert "content-disposition" not in self.headers
        return dict(error)

    def csv(self) -> list[list[str]]:
        """Header and rows; every record ends in CRLF."""
        assert self.status == 200, self.body[:500]
        assert self.headers["content-type"] == MEDIA_TYPES["csv"]
        assert self.body.endswith(b"\r\n")
        return list(csv.reader(io.StringIO(self.body.decode("utf-8"), newline="")))

    def ndjson(self) -> list[dict[str, Any]]:
        """One JSON object per line; every line ends in LF; an empty export is empty."""
        assert self.status == 200, self.body[:500]
        assert self.headers["content-type"] == MEDIA_TYPES["ndjson"]
        text = self.body.decode("utf-8")
        if not text:
            return []
        assert text.endswith("\n")
        lines = text.split("\n")[:-1]
        rows = [json.loads(line) for line in lines]
        assert all(isinstance(row, dict) for row in rows)
        return rows

    def records(self, format: str) -> list[dict[str, Any]]:
        """The rows as dicts in either format (CSV cells stay strings)."""
        if format == "ndjson":
            return self.ndjson()
        header, *rows = self.csv()
        return [dict(zip(header, row, strict=True)) for row in rows]

    def ids(self, format: str) -> list[int]:
        return [int(row["databaseId"]) for row in self.records(format)]


async def export(
    server: RunningServer,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
) -> Exported:
    """POST an export and read the response as a stream, chunk by chunk."""
    sent = dict(headers or {})
    if content is not None or body is not None:
        sent.setdefault("Content-Type", "application/json")
        content = content if content is not None else json.dumps(body).encode()
    async with (
        httpx.AsyncClient(verify=TLS, timeout=120) as client,
        client.stream(
            "POST", f"{server.url}{EXPORT_PATH}", content=content, headers=sent, params=params
        ) as response,
    ):
        body_bytes = b"".join([chunk async for chunk in response.aiter_bytes()])
        return Exported(response.status_code, response.headers, body_bytes)


async def graphql(
    server: RunningServer, headers: dict[str, str], document: str, **variables: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=TLS, timeout=60) as client:
        response = await client.post(
            server.graphql_url, json={"query": document, "variables": variables}, headers=headers
        )
    answer = response.json()
    assert response.status_code == 200 and "errors" not in answer, answer
    return dict(answer["data"])


PAGE_OF_PAYMENTS = """query($filter: PaymentFilter, $sort: [PaymentSort!], $after: String) {
  payments(filter: $filter, sort: $sort, first: 5, after: $after) {
    nodes { databaseId } pageInfo { hasNextPage endCursor } totalCount } }"""


async def listed_ids(
    server: RunningServer,
    headers: dict[str, str],
    filter: Any = None,
    sort: Any = None,
) -> list[int]:
    """Every id `payments(filter:, sort:)` lists over /graphql, page by page."""
    found: list[int] = []
    after = None
    total = None
    while True:
        data = await graphql(
            server, headers, PAGE_OF_PAYMENTS, filter=filter, sort=sort, after=after
        )
        page = data["payments"]
        found.extend(node["databaseId"] for node in page["nodes"])
        total = page["totalCount"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(found) == total
    return found


async def partner_payments_listed(
    server: RunningServer, headers: dict[str, str], filter: Any, sort_by: str | None
) -> list[int]:
    """Every id document 000's `partnerPayments` lists, walked by start/length."""
    document = """query($filter: PaymentFilter, $start: Int, $sortBy: String, $sortType: String) {
      partnerPayments(filter: $filter, start: $start, length: 3, sortBy: $sortBy,
                      sortType: $sortType) { data { databaseId } total } }"""
    found: list[int] = []
    while True:
        data = await graphql(
            server,
            headers,
            document,
            filter=filter,
            start=len(found),
            sortBy=sort_by,
            sortType="asc" if sort_by else None,
        )
        page = data["partnerPayments"]
        found.extend(row["databaseId"] for row in page["data"])
        if len(found) >= page["total"] or not page["data"]:
            return found


# --- 1. CSV and NDJSON: the same rows, with their values ----------------------------------

VALUE_COLUMNS = [
    "databaseId",
    "id",
    "kind",
    "status",
    "amount",
    "paidAmount",
    "currency",
    "reference",
    "authorized",
    "partner",
    "paymentDate",
    "createdAt",
]
HUGE_AMOUNT = 9_007_199_254_740_993  # 2**53 + 1: a JSON number would lose it


@dataclass
class KnownRows:
    tenant_id: int
    partner_id: int
    ids: list[int]  # the three the filter matches, in id order
    excluded: int  # matches no filter used below
    admin_id: int


async def known_rows(engine: Any) -> KnownRows:
    f = Factory(engine)
    tenant = await f.tenant()
    partner = await f.partner(tenant)
    columns = (
        "kind",
        "status",
        "amount",
        "paid_amount",
        "currency",
        "reference",
        "authorized",
        "partner_id",
        "payment_date",
        "created_at",
    )
    values = [
        ("acquiring", "completed", 12_345, 12_345, "USD", 'Ref, "quoted"\nsecond line', True,
         partner, date(2025, 3, 1), at(0)),
        ("acquiring", "underpaid", 500, 400, "JPY", "Café 東京", False, partner, None,
         at(1) + timedelta(microseconds=250)),
        ("commission", "generated", HUGE_AMOUNT, None, "EUR", None, False, None, None, at(2)),
        ("acquiring", "created", 499, None, "USD", "too small", False, partner, None, at(3)),
    ]  # fmt: skip
    ids = await bulk_payments(f, tenant, [dict(zip(columns, row, strict=True)) for row in values])
    return KnownRows(tenant, partner, ids[:3], ids[3], await f.user(tenant))


def expected_csv(rows: KnownRows) -> list[list[str]]:
    first, second, third = rows.ids
    partner = str(rows.partner_id)
    return [
        VALUE_COLUMNS,
        [str(first), encode("Payment", first), "ACQUIRING", "COMPLETED", "12345", "12345",
         "USD", 'Ref, "quoted"\nsecond line', "true", partner, "2025-03-01",
         "2025-03-01T12:00:00+00:00"],
        [str(second), encode("Payment", second), "ACQUIRING", "UNDERPAID", "500", "400", "JPY",
         "Café 東京", "false", partner, "", "2025-03-01T12:01:00.000250+00:00"],
        [str(third), encode("Payment", third), "COMMISSION", "GENERATED", str(HUGE_AMOUNT), "",
         "EUR", "", "false", "", "", "2025-03-01T12:02:00+00:00"],
    ]  # fmt: skip


def expected_ndjson(rows: KnownRows) -> list[dict[str, Any]]:
    def typed(name: str, cell: str) -> Any:
        if cell == "":
            return None
        if name in ("databaseId", "partner"):
            return int(cell)
        if name == "authorized":
            return cell == "true"
        return cell  # amounts stay strings, like BigInt

    _, *cells = expected_csv(rows)
    return [
        {name: typed(name, cell) for name, cell in zip(VALUE_COLUMNS, row, strict=True)}
        for row in cells
    ]


async def test_csv_and_ndjson_of_one_filter_carry_the_same_rows_and_values(
    server: RunningServer, engine: Any
) -> None:
    # Given four payments with known values, one below the filter's amount
    rows = await known_rows(engine)
    headers = {**bearer(token(rows, VIEW_PAYMENTS)), "X-Request-Id": "export-1"}
    body = {"filter": {"amount": {"gte": "500"}}, "columns": VALUE_COLUMNS}

    # When the same filter is exported as CSV and as NDJSON
    as_csv = await export(server, {**body, "format": "csv"}, headers=headers)
    as_ndjson = await export(server, {**body, "format": "ndjson"}, headers=headers)

    # Then both hold exactly the matching rows, columns in the order asked for
    assert as_csv.csv() == expected_csv(rows)
    assert as_ndjson.ndjson() == expected_ndjson(rows)
    assert [list(row) for row in as_ndjson.ndjson()] == [VALUE_COLUMNS] * 3
    # CSV: one CRLF per record; the bare LF inside the quoted reference is data
    assert as_csv.body.count(b"\r\n") == 4
    assert f'"{HUGE_AMOUNT}"'.encode() in as_ndjson.body
    for exported, format in ((as_csv, "csv"), (as_ndjson, "ndjson")):
        assert exported.headers["content-type"] == MEDIA_TYPES[format]
        assert (
            exported.headers["content-disposition"] == f'attachment; filename="payments.{format}"'
        )
        assert exported.headers["x-request-id"] == "export-1"
        assert exported.headers["cache-control"] == "private, no-store"
        assert "content-length" not in exported.headers  # streamed, not buffered


async def test_exported_values_are_what_graphql_shows_for_the_same_rows(
    server: RunningServer, engine: Any
) -> None:
    rows = await known_rows(engine)
    headers = bearer(token(rows, VIEW_PAYMENTS))
    filter = {"amount": {"gte": "500"}}

    exported = await export(
        server, {"filter": filter, "columns": VALUE_COLUMNS, "format": "ndjson"}, headers=headers
    )
    data = await graphql(
        server,
        headers,
        """query($filter: PaymentFilter) { payments(filter: $filter) { nodes {
          databaseId id kind status amount { amount } paidAmount { amount } currency
          reference authorized partner { databaseId } paymentDate createdAt } } }""",
        filter=filter,
    )

    def flat(node: dict[str, Any]) -> dict[str, Any]:
        return {
            **node,
            "amount": node["amount"]["amount"],
            "paidAmount": node["paidAmount"] and node["paidAmount"]["amount"],
            "partner": node["partner"] and node["partner"]["databaseId"],
        }

    assert exported.ndjson() == [flat(node) for node in data["payments"]["nodes"]]


async def test_an_export_without_columns_has_the_default_columns_and_an_empty_one_its_header(
    server: RunningServer, engine: Any
) -> None:
    rows = await known_rows(engine)
    headers = bearer(token(rows, VIEW_PAYMENTS))

    everything = await export(server, {}, headers=headers)  # CSV by default
    no_body = await export(server, headers=headers, params={"format": "ndjson"})
    nothing_csv = await export(server, {"filter": {"currency": {"eq": "GBP"}}}, headers=headers)
    nothing_ndjson = await export(
        server, {"filter": {"currency": {"eq": "GBP"}}, "format": "ndjson"}, headers=headers
    )

    header, *cells = everything.csv()
    assert everything.headers["x-request-id"]  # one is made up when none is sent
    assert everything.headers["x-request-id"] != no_body.headers["x-request-id"]
    assert header == DEFAULT_COLUMNS
    assert [int(row[0]) for row in cells] == [*rows.ids, rows.excluded]
    assert [list(row) for row in no_body.ndjson()] == [DEFAULT_COLUMNS] * 4
    assert no_body.ids("ndjson") == [*rows.ids, rows.excluded]
    assert nothing_csv.body == ",".join(DEFAULT_COLUMNS).encode() + b"\r\n"
    assert nothing_ndjson.status == 200
    assert nothing_ndjson.body == b""


# --- 2. both request forms, sort and default order -----------------------------------------


@dataclass
class SortRows:
    tenant_id: int
    ids: list[int]  # in id order
    amounts: dict[int, int]
    admin_id: int


async def sort_rows(engine: Any) -> SortRows:
    f = Factory(engine)
    tenant = await f.tenant()
    amounts = [300, 100, 300, 200, 50, 300]
    # created_at runs against the ids, so ordering by time is not ordering by id
    ids = await bulk_payments(
        f,
        tenant,
        [
            {"amount": amount, "currency": ("USD", "EUR")[i % 2], "created_at": at(-i)}
            for i, amount in enumerate(amounts)
        ],
    )
    return SortRows(tenant, ids, dict(zip(ids, amounts, strict=True)), await f.user(tenant))


# Documents whose exported field has an argument: `{ payments { ... } }` without any is
# tested on its own below.
PAYMENTS_BY_ID = "{ payments(sort: [{field: ID}]) { nodes { databaseId } } }"
PARTNER_PAYMENTS_NEWEST = '{ partnerPayments(sortType: "desc") { data { databaseId } } }'
QUERY_FORM = """query Export($filter: PaymentFilter, $sort: [PaymentSort!]) {
  payments(filter: $filter, sort: $sort) { nodes { databaseId amount { amount } currency } } }"""
EDGES_FORM = """query($filter: PaymentFilter, $sort: [PaymentSort!]) {
  payments(filter: $filter, sort: $sort) {
    totalCount edges { cursor node { databaseId amount { amount currency } currency } } } }"""


@pytest.mark.parametrize("format", FORMATS)
async def test_both_request_forms_give_the_same_bytes_and_honour_the_sort(
    server: RunningServer, engine: Any, format: str
) -> None:
    rows = await sort_rows(engine)
    headers = bearer(token(rows, VIEW_PAYMENTS))
    filter = {"amount": {"gte": "100"}}
    sort = [{"field": "AMOUNT", "direction": "DESC"}]
    columns = ["databaseId", "amount", "currency"]

    from_json = await export(
        server,
        {"filter": filter, "sort": sort, "columns": columns, "format": format},
        headers=headers,
    )
    from_query = await export(
        server,
        {"query": QUERY_FORM, "variables": {"filter": filter, "sort": sort}, "format": format},
        headers=headers,
    )
    from_edges = await export(
        server,
        {"query": EDGES_FORM, "variables": {"filter": filter, "sort": sort}},
        headers=headers,
        params={"format": format},
    )
    inline = await export(
        server,
        {
            "query": '{ payments(filter: {amount: {gte: "100"}}, sort: [{field: AMOUNT, '
            "direction: DESC}]) { nodes { databaseId amount { amount } currency } } }",
            "format": format,
        },
        headers=headers,
    )

    # amount descending, ties by id ascending; the 50 is filtered out
    expected = sorted(
        (i for i in rows.ids if rows.amounts[i] >= 100), key=lambda i: (-rows.amounts[i], i)
    )
    assert from_json.ids(format) == expected
    assert from_json.status == from_query.status == from_edges.status == inline.status == 200
    assert from_query.body == from_json.body
    assert from_edges.body == from_json.body
    assert inline.body == from_json.body
    assert [list(r) for r in from_json.records(format)] == [columns] * len(expected)


async def test_the_default_order_is_by_id_and_the_body_format_wins_over_the_query_param(
    server: RunningServer, engine: Any
) -> None:
    rows = await sort_rows(engine)
    headers = bearer(token(rows, VIEW_PAYMENTS))

    unsorted = await export(
        server, {"columns": ["databaseId"], "format": "ndjson"}, headers=headers,
        params={"format": "csv"},
    )  # fmt: skip
    by_time = await export(
        server,
        {"columns": ["databaseId"], "sort": [{"field": "CREATED_AT"}]},
        headers=headers,
        params={"format": "ndjson"},
    )
    upper = await export(server, {"columns": ["databaseId"], "format": "NDJSON"}, headers=headers)

    assert unsorted.ids("ndjson") == rows.ids
    assert by_time.ids("ndjson") == list(reversed(rows.ids))
    assert upper.ids("ndjson") == rows.ids


# --- 3. filters: the export equals the GraphQL list ---------------------------------------


@dataclass
class FilterRows:
    tenant_id: int
    acme: int
    zenith: int
    ids: list[int]
    admin_id: int


async def filter_rows(engine: Any) -> FilterRows:
    f = Factory(engine)
    tenant = await f.tenant()
    acme = await f.partner(tenant, name="Acme Traders")
    zenith = await f.partner(tenant, name="Zenith Ltd")
    kinds = [
        ("acquiring", "completed"),
        ("acquiring", "underpaid"),
        ("commission", "generated"),
        ("invoice", "recorded"),
        ("acquiring", "created"),
        ("reseller", "waiting_for_payment"),
        ("commission", "paid"),
    ]
    rows = []
    for i in range(30):
        kind, status = kinds[i % len(kinds)]
        amount = (i * 37) % 50 * 100 + 100
        rows.append(
            {
                "kind": kind,
                "status": status,
                "amount": amount,
                "paid_amount": None if i % 5 == 0 else amount - i % 3,
                "currency": ("USD", "EUR", "USD", "JPY")[i % 4],
                "partner_id": (acme, zenith, None)[i % 3],
                "reference": f"REF-{i:03d}",
                "created_at": at((i * 7) % 30 * 10),
            }
        )
    ids = await bulk_payments(f, tenant, rows)
    return FilterRows(tenant, acme, zenith, ids, await f.user(tenant))


FILTERS: dict[str, Callable[[FilterRows], tuple[Any, Any]]] = {
    "relation by id": lambda r: ({"partner": {"id": {"eq": str(r.acme)}}}, None),
    "relation by global id, newest first": lambda r: (
        {"partner": {"id": {"in": [encode("Partner", r.zenith)]}}},
        [{"field": "CREATED_AT", "direction": "DESC"}],
    ),
    "relation by name": lambda r: (
        {"partner": {"name": {"contains": "acme"}}},
        [{"field": "AMOUNT", "direction": "ASC"}],
    ),
    "and": lambda r: (
        {"and": [{"currency": {"eq": "USD"}}, {"amount": {"gte": "2000"}}]},
        None,
    ),
    "or": lambda r: (
        {"or": [{"status": {"eq": "COMPLETED"}}, {"kind": {"in": ["COMMISSION", "RESELLER"]}}]},
        [{"field": "STATUS"}, {"field": "AMOUNT", "direction": "DESC"}],
    ),
    "not over nulls": lambda r: ({"not": {"paidAmount": {"gte": "2000"}}}, None),
    "paid amount unknown": lambda r: ({"paidAmount": {"isNull": True}}, None),
    "createdAt range": lambda r: (
        {"createdAt": {"gte": "2025-03-01T12:50:00Z", "lte": "2025-03-01T16:00:00+00:00"}},
        [{"field": "CREATED_AT"}],
    ),
    "nested and/or/not with a relation": lambda r: (
        {
            "and": [
                {"not": {"currency": {"eq": "JPY"}}},
                {"or": [{"partnerId": {"isNull": True}}, {"partner": {"id": {"eq": r.zenith}}}]},
                {"createdAt": {"lte": "2025-03-01T15:00:00Z"}},
            ]
        },
        [{"field": "REFERENCE", "direction": "DESC"}],
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
async def test_an_exports_rows_are_the_graphql_lists_rows_for_the_same_filter(
    server: RunningServer, engine: Any, name: str
) -> None:
    rows = await filter_rows(engine)
    filter, sort = FILTERS[name](rows)
    headers = bearer(token(rows, VIEW_PAYMENTS))

    listed = await listed_ids(server, headers, filter, sort)
    body = {"filter": filter, "sort": sort, "columns": ["databaseId", "status"]}
    as_csv = await export(server, body, headers=headers)
    as_ndjson = await export(server, {**body, "format": "ndjson"}, headers=headers)
    as_query = await export(
        server,
        {"query": QUERY_FORM, "variables": {"filter": filter, "sort": sort}, "format": "ndjson"},
        headers=headers,
    )

    assert 0 < len(listed) < len(rows.ids), "the filter should split the rows"
    assert as_csv.ids("csv") == listed
    assert as_ndjson.ids("ndjson") == listed
    assert as_query.ids("ndjson") == listed


async def test_a_partner_payments_export_is_document_000s_list_without_its_pages(
    server: RunningServer, engine: Any
) -> None:
    rows = await filter_rows(engine)
    headers = bearer(token(rows, VIEW_PARTNER_PAYMENTS))
    filter = {"amount": {"gte": "600"}}
    document = """query($filter: PaymentFilter, $sortBy: String) {
      partnerPayments(filter: $filter, sortBy: $sortBy, sortType: "asc") {
        data { databaseId kind amount { amount } } } }"""
    newest_first = """query($filter: PaymentFilter) {
      partnerPayments(filter: $filter) { total data { databaseId kind } } }"""

    by_amount = await export(
        server, {"query": document, "variables": {"filter": filter, "sortBy": "amount"}},
        headers=headers,
    )  # fmt: skip
    by_time = await export(
        server,
        {"query": newest_first, "variables": {"filter": filter}, "format": "ndjson"},
        headers=headers,
    )

    header, *cells = by_amount.csv()
    assert header == ["databaseId", "kind", "amount"]
    assert {row[1] for row in cells} == {"COMMISSION"}
    assert [int(row[0]) for row in cells] == await partner_payments_listed(
        server, headers, filter, "amount"
    )
    listed = await partner_payments_listed(server, headers, filter, None)
    assert len(listed) > 3  # more than one of the walked pages
    assert by_time.ids("ndjson") == listed


# --- 4. scopes ----------------------------------------------------------------------------


async def test_a_partner_users_export_holds_only_its_partners_payments(
    server: RunningServer, engine: Any
) -> None:
    graph = await sibling_partners(Factory(engine))
    headers = bearer(token(graph, VIEW_PAYMENTS, partner_id=graph.mine, user_id=graph.mine_user))
    mine = sorted(rows.payment for rows in graph.my_payments)
    theirs = [rows.payment for rows in graph.their_payments]

    for format in FORMATS:
        everything = await export(
            server, {"columns": ["databaseId", "partner"], "format": format}, headers=headers
        )
        assert everything.ids(format) == mine
        assert {int(r["partner"]) for r in everything.records(format)} == {graph.mine}
    # Asking for the sibling's rows by name finds none of them
    for filter in (
        {"partner": {"id": {"eq": str(graph.theirs)}}},
        {"partnerId": {"eq": str(graph.theirs)}},
        {"id": {"in": [str(i) for i in theirs]}},
        {"id": {"in": [encode("Payment", i) for i in theirs]}},
    ):
        asked = await export(server, {"filter": filter, "format": "ndjson"}, headers=headers)
        assert asked.ndjson() == []
    query = await export(server, {"query": PAYMENTS_BY_ID, "format": "ndjson"}, headers=headers)
    assert query.ids("ndjson") == mine


async def test_view_partner_payments_alone_exports_commission_payments_only(
    server: RunningServer, engine: Any
) -> None:
    graph = await sibling_partners(Factory(engine))
    headers = bearer(token(graph, VIEW_PARTNER_PAYMENTS))
    # each partner's second payment is its commission; the others are invoice payments
    commissions = sorted([graph.my_payments[1].payment, graph.their_payments[1].payment])

    for format in FORMATS:
        exported = await export(
            server, {"columns": ["databaseId", "kind"], "format": format}, headers=headers
        )
        assert exported.ids(format) == commissions
        assert {r["kind"] for r in exported.records(format)} == {"COMMISSION"}
        assert exported.ids(format) == await listed_ids(server, headers)
    # Asking for the other kinds by filter adds nothing
    invoices = await export(
        server,
        {"filter": {"kind": {"eq": "INVOICE"}}, "format": "ndjson"},
        headers=headers,
    )
    assert invoices.ndjson() == []
    partner_list = await export(
        server,
        {"query": PARTNER_PAYMENTS_NEWEST, "format": "ndjson"},
        headers=headers,
    )
    assert sorted(partner_list.ids("ndjson")) == commissions


async def test_another_tenants_payments_never_appear(server: RunningServer, engine: Any) -> None:
    ours = await known_rows(engine)
    theirs = await known_rows(engine)
    headers = bearer(token(ours, VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS))
    all_ours = [*ours.ids, ours.excluded]
    all_theirs = [*theirs.ids, theirs.excluded]

    everything = await export(server, {"format": "ndjson"}, headers=headers)
    assert everything.ids("ndjson") == all_ours
    for filter in (
        {"tenantId": {"eq": str(theirs.tenant_id)}},
        {"partner": {"id": {"eq": str(theirs.partner_id)}}},
        {"partnerId": {"eq": str(theirs.partner_id)}},
        {"id": {"in": [str(i) for i in all_theirs]}},
        {
            "or": [
                {"id": {"in": [encode("Payment", i) for i in all_theirs]}},
                {"tenantId": {"in": [str(theirs.tenant_id)]}},
            ]
        },
    ):
        for format in FORMATS:
            asked = await export(server, {"filter": filter, "format": format}, headers=headers)
            assert asked.records(format) == [], filter
    commissions = await export(
        server, {"query": PARTNER_PAYMENTS_NEWEST, "format": "ndjson"}, headers=headers
    )
    assert commissions.ids("ndjson") == [ours.ids[2]]


async def test_a_manager_api_token_exports_its_reseller_tree(
    server: RunningServer, engine: Any
) -> None:
    tree = await reseller_tree(Factory(engine))
    headers = {"X-Api-Token": create_manager(server, tree.tenant_id, tree.own)}

    body = {"columns": ["databaseId"], "format": "ndjson"}
    exported = await export(server, body, headers=headers)

    allowed = ("own", "child", "grandchild")
    assert exported.ids("ndjson") == sorted(tree.payments[n].payment for n in allowed)


@pytest.mark.parametrize(
    ("permissions", "body"),
    [
        pytest.param((), {}, id="no-permission"),
        pytest.param(
            (MANAGE_PAYMENTS,), {"filter": {"amount": {"gte": "1"}}}, id="manage-only-json"
        ),
        pytest.param((MANAGE_PAYMENTS,), {"query": PAYMENTS_BY_ID}, id="manage-only-payments"),
        pytest.param(
            (MANAGE_PAYMENTS,), {"query": PARTNER_PAYMENTS_NEWEST}, id="manage-only-partner"
        ),
        pytest.param(
            (VIEW_PAYMENTS,), {"query": PARTNER_PAYMENTS_NEWEST}, id="view-payments-partner"
        ),
        pytest.param(
            (VIEW_PAYMENTS, MANAGE_PAYMENTS),
            {"query": PARTNER_PAYMENTS_NEWEST, "format": "ndjson"},
            id="view-and-manage-partner",
        ),
    ],
)
async def test_an_export_without_the_fields_permission_is_forbidden(
    server: RunningServer, engine: Any, permissions: tuple[str, ...], body: dict[str, Any]
) -> None:
    rows = await known_rows(engine)

    refused = await export(server, body, headers=bearer(token(rows, *permissions)))

    assert refused.status == 403
    assert refused.error()["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("document", "permissions"),
    [
        pytest.param("{ payments { nodes { databaseId kind } } }", (VIEW_PAYMENTS,), id="payments"),
        pytest.param(
            "query { payments { nodes { databaseId kind } } }",
            (VIEW_PARTNER_PAYMENTS,),
            id="payments-commission-scope",
        ),
        pytest.param(
            "{ partnerPayments { data { databaseId kind } } }",
            (VIEW_PARTNER_PAYMENTS,),
            id="partnerPayments",
        ),
    ],
)
async def test_a_query_whose_field_has_no_arguments_exports_every_visible_row(
    server: RunningServer,
    engine: Any,
    document: str,
    permissions: tuple[str, ...],
) -> None:
    # The simplest query form there is: the field with no argument at all
    rows = await known_rows(engine)
    headers = bearer(token(rows, *permissions))
    everything = [*rows.ids, rows.excluded]
    commission = rows.ids[2]

    exported = await export(server, {"query": document, "format": "ndjson"}, headers=headers)

    assert exported.status == 200, exported.body[:300]
    if VIEW_PAYMENTS in permissions:
        assert exported.ids("ndjson") == everything
    else:
        assert exported.ids("ndjson") == [commission]
    assert {tuple(row) for row in exported.ndjson()} == {("databaseId", "kind")}


async def test_partner_payments_with_no_arguments_and_only_view_payments_is_forbidden(
    server: RunningServer, engine: Any
) -> None:
    rows = await known_rows(engine)
    headers = bearer(token(rows, VIEW_PAYMENTS))

    refused = await export(
        server, {"query": "{ partnerPayments { data { databaseId } } }"}, headers=headers
    )

    assert refused.status == 403, refused.body[:300]
    assert refused.error()["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            "query { payments(filter: {}) { nodes { ...Row } } }\n"
            "fragment Row on Payment { databaseId amount { amount } }",
            id="fragment-spread",
        ),
        pytest.param(
            "query { payments(filter: {}) { nodes { ... on Payment { databaseId "
            "amount { amount } } } } }",
            id="inline-fragment",
        ),
        pytest.param(
            "query { payments(filter: {}) { edges { node { databaseId ...Amount } } } }\n"
            "fragment Amount on Payment { amount { amount } }",
            id="field-and-spread-under-edges",
        ),
    ],
)
async def test_fields_selected_through_fragments_are_the_columns(
    server: RunningServer, engine: Any, document: str
) -> None:
    rows = await known_rows(engine)
    headers = bearer(token(rows, VIEW_PAYMENTS))

    exported = await export(server, {"query": document}, headers=headers)

    header, *cells = exported.csv()
    assert header == ["databaseId", "amount"]
    assert cells[0] == [str(rows.ids[0]), "12345"]


# --- 5. authentication --------------------------------------------------------------------

OTHER_SETTINGS = Settings(jwt_secret="another-secret-that-is-long-enough-0123456789")
CREDENTIALS: dict[str, Callable[[KnownRows], dict[str, str]]] = {
    "none": lambda rows: {},
    "expired JWT": lambda rows: bearer(token(rows, VIEW_PAYMENTS, ttl_seconds=-3600)),
    "wrongly signed JWT": lambda rows: bearer(token(rows, VIEW_PAYMENTS, settings=OTHER_SETTINGS)),
    "not a JWT": lambda rows: bearer("not.a.jwt"),
    "not a bearer": lambda rows: {"Authorization": f"Basic {token(rows, VIEW_PAYMENTS)}"},
    "unknown API token": lambda rows: {"X-Api-Token": "pgm_" + "x" * 43},
    "malformed API token": lambda rows: {"X-Api-Token": "not-a-token"},
    "both credentials": lambda rows: {
        **bearer(token(rows, VIEW_PAYMENTS)),
        "X-Api-Token": "pgm_" + "x" * 43,
    },
}


@pytest.mark.parametrize("credential", list(CREDENTIALS))
async def test_an_export_without_a_valid_credential_gets_401(
    server: RunningServer, engine: Any, credential: str
) -> None:
    rows = await known_rows(engine)
    headers = CREDENTIALS[credential](rows)

    refused = await export(server, {"format": "ndjson"}, headers=headers)

    assert refused.status == 401
    assert refused.error()["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused.headers["www-authenticate"] == 'Bearer realm="paygraph"'


# --- 6. bad input -------------------------------------------------------------------------

ROWS = "nodes { databaseId }"
# Each body with a fragment of the message that says why it was refused.
BAD_BODIES: dict[str, tuple[Any, str]] = {
    # paging arguments
    "first": ({"query": f"{{ payments(first: 10) {{ {ROWS} }} }}"}, "drop `first`"),
    "after by variable": (
        {
            "query": f"query($a: String) {{ payments(after: $a) {{ {ROWS} }} }}",
            "variables": {"a": None},
        },
        "drop `after`",
    ),
    "last": ({"query": f"{{ payments(last: 1) {{ {ROWS} }} }}"}, "drop `last`"),
    "before": ({"query": f'{{ payments(before: "x") {{ {ROWS} }} }}'}, "drop `before`"),
    "page and perPage": (
        {"query": f"{{ payments(filter: {{}}, page: 1, perPage: 10) {{ {ROWS} }} }}"},
        "drop `page`",
    ),
    "start": ({"query": "{ partnerPayments(start: 0) { data { id } } }"}, "drop `start`"),
    "length": ({"query": "{ partnerPayments(length: 5) { data { id } } }"}, "drop `length`"),
    # columns
    "unknown column": ({"columns": ["databaseId", "secret"]}, "`secret` cannot be exported"),
    "columns not a list": ({"columns": "databaseId"}, "`columns` must be a list"),
    "columns not names": ({"columns": ["databaseId", 7]}, "`columns` must be a list"),
    "an object column": (
        {
            "query": "{ payments(filter: {}) { nodes { databaseId amounts { requested { "
            "money { amount } } } } } }"
        },
        "`amounts` cannot be exported",
    ),
    "a list column": (
        {"query": "{ payments(filter: {}) { nodes { details { nodes { id } } } } }"},
        "`details` cannot be exported",
    ),
    # filter and sort values
    "amount gte x": ({"filter": {"amount": {"gte": "x"}}}, "amount.gte"),
    "amount not an integer": ({"filter": {"amount": {"gte": 1.5}}}, "amount.gte"),
    "unknown status": ({"filter": {"status": {"eq": "NOPE"}}}, "status.eq"),
    "empty in": ({"filter": {"status": {"in": []}}}, "filter.status.in"),
    "bad datetime": ({"filter": {"createdAt": {"gte": "yesterday"}}}, "createdAt.gte"),
    "unknown currency": ({"filter": {"currency": {"eq": "xx"}}}, "ISO 4217"),
    "another type's global id": (
        {"filter": {"id": {"eq": encode("Invoice", 1)}}},
        "not a valid Payment cursor",
    ),
    "unknown filter field": ({"filter": {"colour": {"eq": "red"}}}, "colour"),
    "filter not an object": ({"filter": "amount > 5"}, "$filter"),
    "empty and": ({"filter": {"and": []}}, "filter.and"),
    "unknown sort field": ({"sort": [{"field": "COLOUR"}]}, "COLOUR"),
    "bad sortBy": (
        {"query": '{ partnerPayments(sortBy: "nope") { data { id } } }'},
        "cannot sort by 'nope'",
    ),
    "bad variable in a query": (
        {
            "query": "query($f: PaymentFilter) { payments(filter: $f) { nodes { id } } }",
            "variables": {"f": {"amount": {"gte": "x"}}},
        },
        "$f",
    ),
    "variables not an object": (
        {"query": "{ payments { nodes { id } } }", "variables": ["x"]},
        "`variables` must be an object",
    ),
    # the query
    "syntax error": ({"query": "{ payments(filter: { nodes { id } }"}, "Syntax Error"),
    "empty query": ({"query": ""}, "Syntax Error"),
    "query not a string": ({"query": {"payments": True}}, "must be a GraphQL document"),
    "a mutation": (
        {"query": 'mutation { deletePayment(id: "1") { __typename } }'},
        "exactly one query operation",
    ),
    "a subscription": (
        {"query": "subscription { paymentChanged { id } }"},
        "exactly one query operation",
    ),
    "two root fields": (
        {"query": "{ payments { nodes { id } } partnerPayments { data { id } } }"},
        "exactly one of payments, partnerPayments",
    ),
    "the same field twice": (
        {
            "query": "{ a: payments(filter: {}) { nodes { id } } "
            "b: payments(filter: {}) { nodes { id } } }"
        },
        "exactly one of payments, partnerPayments",
    ),
    "two operations": (
        {"query": "query A { payments { nodes { id } } } query B { payments { nodes { id } } }"},
        "exactly one query operation",
    ),
    "another list": (
        {"query": "{ invoices { nodes { id } } }"},
        "exactly one of payments, partnerPayments",
    ),
    "an unknown field": ({"query": "{ payments { nodes { colour } } }"}, "colour"),
    "query and filter": ({"query": "{ payments { nodes { id } } }", "filter": {}}, "not both"),
    # the format
    "format xml": ({"format": "xml"}, "`format` must be one of csv, ndjson"),
    "format not a string": ({"format": ["csv"]}, "`format` must be one of csv, ndjson"),
}


@pytest.mark.parametrize("name", list(BAD_BODIES))
async def test_bad_input_is_refused_with_400_before_anything_streams(
    server: RunningServer, engine: Any, name: str
) -> None:
    rows = await known_rows(engine)
    body, why = BAD_BODIES[name]
    headers = bearer(token(rows, VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS))

    refused = await export(server, body, headers=headers)

    assert refused.status == 400, refused.body
    error = refused.error()
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert why in error["message"], error["message"]


JSON = "application/json"
TEXT = "text/plain"
DEEP_ARRAY = b"[" * 5_000 + b"]" * 5_000  # deeper than the JSON parser recurses
DEEP_OBJECT = b'{"a":' * 5_000 + b"1" + b"}" * 5_000


@pytest.mark.parametrize(
    ("content_type", "content", "code"),
    [
        pytest.param(JSON, b'"payments"', "BAD_REQUEST", id="json-string"),
        pytest.param(JSON, b"42", "BAD_REQUEST", id="json-number"),
        pytest.param(JSON, b"null", "BAD_REQUEST", id="json-null"),
        pytest.param(JSON, b"{not json", "BAD_REQUEST", id="json-malformed"),
        pytest.param(JSON, DEEP_ARRAY, "BAD_REQUEST", id="json-too-deep-array"),
        pytest.param(JSON, DEEP_OBJECT, "BAD_REQUEST", id="json-too-deep-object"),
        pytest.param(JSON, b'[{"format": "csv"}]', "BATCHING_NOT_SUPPORTED", id="json-array"),
        # Without a JSON content type the guard leaves the body to the endpoint
        pytest.param(TEXT, b'"payments"', "BAD_REQUEST", id="text-string"),
        pytest.param(TEXT, b'[{"format": "csv"}]', "BAD_REQUEST", id="text-array"),
        pytest.param(TEXT, b"{not json", "BAD_REQUEST", id="text-malformed"),
        pytest.param(TEXT, b"\xff\xfe", "BAD_REQUEST", id="text-not-utf8"),
        pytest.param(TEXT, DEEP_OBJECT, "BAD_REQUEST", id="text-too-deep-object"),
    ],
)
async def test_a_body_that_is_no_json_object_is_refused_with_400(
    server: RunningServer, engine: Any, content_type: str, content: bytes, code: str
) -> None:
    rows = await known_rows(engine)
    headers = {**bearer(token(rows, VIEW_PAYMENTS)), "Content-Type": content_type}

    refused = await export(server, content=content, headers=headers)

    assert refused.status == 400, refused.body[:300]
    assert refused.error()["extensions"]["code"] == code


async def test_a_format_query_param_outside_csv_and_ndjson_is_refused(
    server: RunningServer, engine: Any
) -> None:
    rows = await known_rows(engine)
    headers = bearer(token(rows, VIEW_PAYMENTS))

    refused = await export(server, {}, headers=headers, params={"format": "xml"})

    assert refused.status == 400
    assert refused.error()["extensions"]["code"] == "BAD_USER_INPUT"


# --- 7. more rows than one chunk ----------------------------------------------------------

MANY = 4_500  # more than two chunks of 2,000


async def test_an_export_of_more_rows_than_a_chunk_streams_every_row_in_order(
    server: RunningServer, engine: Any
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    other = await f.tenant()
    rows = [
        {
            "amount": (i * 7_919) % 100_000,
            "currency": ("USD", "EUR", "JPY")[i % 3],
            "reference": f"bulk-{i:05d}",
            "created_at": BASE_TIME + timedelta(seconds=i),
        }
        for i in range(MANY)
    ]
    ids = await bulk_payments(f, tenant, rows)
    await bulk_payments(f, other, rows[:100])  # never exported
    headers = bearer(token(Caller(tenant, await f.user(tenant)), VIEW_PAYMENTS))
    amounts = dict(zip(ids, (r["amount"] for r in rows), strict=True))

    columns = ["databaseId", "amount", "reference"]
    as_csv = await export(server, {"columns": columns}, headers=headers)
    as_ndjson = await export(
        server,
        {
            "columns": ["databaseId", "amount"],
            "sort": [{"field": "AMOUNT", "direction": "DESC"}],
            "format": "ndjson",
        },
        headers=headers,
    )
    dollars = await export(
        server,
        {"filter": {"currency": {"eq": "USD"}}, "columns": ["databaseId"], "format": "ndjson"},
        headers=headers,
    )

    header, *cells = as_csv.csv()
    assert header == ["databaseId", "amount", "reference"]
    assert as_csv.body.count(b"\r\n") == MANY + 1
    assert len(cells) == MANY
    assert (int(cells[0][0]), int(cells[-1][0])) == (ids[0], ids[-1])
    assert [int(row[0]) for row in cells] == ids
    assert cells[2_000] == [str(ids[2_000]), str(rows[2_000]["amount"]), "bulk-02000"]
    assert as_ndjson.body.count(b"\n") == MANY
    by_amount = sorted(ids, key=lambda i: (-amounts[i], i))
    assert as_ndjson.ids("ndjson") == by_amount
    assert [r["amount"] for r in as_ndjson.ndjson()] == [str(amounts[i]) for i in by_amount]
    assert dollars.ids("ndjson") == ids[::3]
    assert as_csv.headers.get("transfer-encoding") == "chunked"


async def abandon_midway(url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    """Starts an export, reads its first bytes and drops the connection. The server
    notices a dropped client when it next writes, so the caller's exports dropped just
    before may still hold its two slots: that 429 is asked again (bounded), as a client
    would; a slot never given back fails at the bound."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        async with (
            httpx.AsyncClient(verify=TLS, timeout=20) as client,
            client.stream("POST", url, json=body, headers=headers) as response,
        ):
            if response.status_code != 429 or asyncio.get_running_loop().time() > deadline:
                assert response.status_code == 200
                async for _chunk in response.aiter_raw():
                    return
                return
        await asyncio.sleep(0.05)


async def test_exports_a_client_abandons_midway_give_their_connections_back(
    server: RunningServer, engine: Any
) -> None:
    # Given an export of some 9 MB, far more than the socket buffers hold
    f = Factory(engine)
    tenant = await f.tenant()
    rows = [{"description": f"{i:05d}" + "x" * 2_000} for i in range(MANY)]
    ids = await bulk_payments(f, tenant, rows)
    headers = bearer(token(Caller(tenant, await f.user(tenant)), VIEW_PAYMENTS))
    url = f"{server.url}{EXPORT_PATH}"
    big = {"columns": ["databaseId", "description"]}

    # When more exports than the pool has connections are dropped after their first bytes
    for _ in range(25):
        await abandon_midway(url, big, headers)

    # Then the server still exports (and answers /graphql) without waiting for the pool,
    # once it has seen the last dropped clients go (TOO_MANY_EXPORTS until then, bounded)
    body = {"columns": ["databaseId"], "format": "ndjson"}
    deadline = asyncio.get_running_loop().time() + 30
    while (finished := await export(server, body, headers=headers)).status == 429:
        assert asyncio.get_running_loop().time() < deadline, "a dropped export kept its slot"
        await asyncio.sleep(0.05)
    assert finished.ids("ndjson") == ids
    assert await listed_ids(server, headers, {"id": {"in": [str(ids[-1])]}}) == [ids[-1]]
    if engine.dialect.name == "postgresql":
        # and no transaction is left open on the database behind a dropped stream
        for _ in range(100):
            async with engine.connect() as connection:
                open_transactions = (
                    await connection.exec_driver_sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND state LIKE 'idle in transaction%' "
                        "AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            if open_transactions == 0:
                break
            await asyncio.sleep(0.1)
        assert open_transactions == 0
