"""The four source documents' list shapes on a real database: document 000's
`partnerPayments` (start/length, sortBy/sortType) and its detail rows, document 001's
0-based partner portfolio, document 003's page/perPage, the Relay cursors under all of
them, and the BAD_USER_INPUT each bad argument earns, naming the argument."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from db import models as m
from domain.permissions import (
    MANAGE_PAYMENTS,
    PAY_PARTNERS_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
    VIEW_PAYMENTS,
)
from domain.principal import Credential, Principal
from resolvers.cursors import encode
from tests.factories import BASE_TIME, Factory, payment_row, unique
from tests.graphql import admin, execute
from tests.scoped_graphs import sibling_partners

# --- helpers ------------------------------------------------------------------------------


def at(minutes: float) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)


def caller(tenant_id: int, *permissions: str, partner_id: int | None = None) -> Principal:
    return Principal(
        tenant_id=tenant_id,
        user_id=None,
        credential=Credential.JWT,
        permissions=frozenset(permissions),
        partner_id=partner_id,
    )


def errors(result: Any) -> list[tuple[str, str | None]]:
    """`(code, field)` of every error of a result."""
    return [(e.extensions["code"], e.extensions.get("field")) for e in result.errors or []]


def assert_refused(result: Any, code: str, field: str | None) -> None:
    """One coded error naming `field` (or, when None, any field), and nothing internal."""
    assert [c for c, _ in errors(result)] == [code], result.errors
    if field is not None:
        assert errors(result)[0][1] == field
    assert "INTERNAL_SERVER_ERROR" not in str(result.errors)


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [row["databaseId"] for row in rows]


async def bulk_payments(f: Factory, tenant: int, rows: list[dict[str, Any]]) -> list[int]:
    """Insert payments in one statement (every row with the same columns); their ids in
    the order given."""
    table = m.Payment.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    async with f.engine.begin() as connection:
        result = await connection.execute(statement, [payment_row(tenant, **r) for r in rows])
        return [int(row_id) for row_id in result.scalars()]


async def commission(f: Factory, tenant: int, **values: Any) -> int:
    return await f.payment(tenant, **{"kind": "commission", "status": "generated", **values})


async def acquiring(f: Factory, tenant: int, **values: Any) -> int:
    return await f.payment(tenant, **{"kind": "acquiring", "status": "created", **values})


async def payment_total(engine: Any, tenant: int) -> int:
    result = await execute(engine, "{ payments { totalCount } }", admin(tenant))
    return int(result.data["payments"]["totalCount"])


# =========================================================================================
# Document 000: partnerPayments
# =========================================================================================

PARTNER_PAYMENTS = """
query($filter: PaymentFilter, $start: Int, $length: Int, $sortBy: String, $sortType: String) {
  partnerPayments(filter: $filter, start: $start, length: $length, sortBy: $sortBy,
                  sortType: $sortType) {
    data { databaseId kind } start length total
  }
}"""


async def partner_payments(engine: Any, principal: Principal, **variables: Any) -> Any:
    return await execute(engine, PARTNER_PAYMENTS, principal, **variables)


async def test_partner_payments_default_to_the_newest_hundred_commission_payments(
    engine: Any,
) -> None:
    # Given 102 commission payments, and newer payments of other kinds
    f = Factory(engine)
    tenant = await f.tenant()
    commissions = await bulk_payments(
        f,
        tenant,
        [{"kind": "commission", "status": "generated", "created_at": at(i)} for i in range(102)],
    )
    await acquiring(f, tenant, created_at=at(500))
    await f.payment(tenant, created_at=at(501))  # an invoice payment

    # When the list is asked for without arguments
    result = await execute(
        engine,
        "{ partnerPayments { data { databaseId kind createdAt } start length total } }",
        admin(tenant),
    )

    # Then it holds the hundred newest commissions, newest first, and counts them all
    assert result.errors is None
    answer = result.data["partnerPayments"]
    assert ids(answer["data"]) == commissions[::-1][:100]
    assert {row["kind"] for row in answer["data"]} == {"COMMISSION"}
    assert (answer["start"], answer["length"], answer["total"]) == (0, 100, 102)


async def test_partner_payments_created_at_the_same_moment_are_ordered_by_id(engine: Any) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    older = await commission(f, tenant, created_at=at(0))
    tied = [await commission(f, tenant, created_at=at(5)) for _ in range(3)]

    result = await partner_payments(engine, admin(tenant))

    assert ids(result.data["partnerPayments"]["data"]) == [*tied, older]


@pytest.mark.parametrize(
    ("sort_by", "sort_type"),
    [("createdAt", "asc"), ("created_at", "ASC"), ("CREATED_AT", "Asc"), (None, "asc")],
)
async def test_partner_payments_sort_by_any_spelling_of_a_field_in_either_case(
    engine: Any, sort_by: str | None, sort_type: str
) -> None:
    # Given payments whose creation order differs from their id order
    f = Factory(engine)
    tenant = await f.tenant()
    last = await commission(f, tenant, created_at=at(2))
    first = await commission(f, tenant, created_at=at(0))
    middle = await commission(f, tenant, created_at=at(1))

    result = await partner_payments(engine, admin(tenant), sortBy=sort_by, sortType=sort_type)

    assert result.errors is None
    assert ids(result.data["partnerPayments"]["data"]) == [first, middle, last]


async def test_partner_payments_sort_by_amount_in_the_direction_asked(engine: Any) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    small = await commission(f, tenant, amount=100, created_at=at(2))
    large = await commission(f, tenant, amount=9_000, created_at=at(0))
    medium = await commission(f, tenant, amount=500, created_at=at(1))

    down = await partner_payments(engine, admin(tenant), sortBy="amount", sortType="desc")
    up = await partner_payments(engine, admin(tenant), sortBy="AMOUNT", sortType="asc")

    assert ids(down.data["partnerPayments"]["data"]) == [large, medium, small]
    assert ids(up.data["partnerPayments"]["data"]) == [small, medium, large]


async def test_partner_payments_page_by_start_and_length_and_total_counts_every_match(
    engine: Any,
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    newest_first = [await commission(f, tenant, created_at=at(i)) for i in range(5)][::-1]

    pages = {
        (start, length): (await partner_payments(
            engine, admin(tenant), start=start, length=length
        )).data["partnerPayments"]
        for start, length in [(0, 2), (2, 2), (4, 2), (5, 2), (1, 200)]
    }  # fmt: skip

    assert ids(pages[0, 2]["data"]) == newest_first[0:2]
    assert ids(pages[2, 2]["data"]) == newest_first[2:4]
    assert ids(pages[4, 2]["data"]) == newest_first[4:]
    assert ids(pages[5, 2]["data"]) == []
    assert ids(pages[1, 200]["data"]) == newest_first[1:]
    for (start, length), page in pages.items():
        assert (page["start"], page["length"], page["total"]) == (start, length, 5)


@pytest.mark.parametrize(
    ("arguments", "code", "field"),
    [
        ('sortBy: "nope"', "BAD_USER_INPUT", "sortBy"),
        ('sortBy: "paidAmount"', "BAD_USER_INPUT", "sortBy"),  # filterable, not sortable
        ('sortType: "up"', "BAD_USER_INPUT", "sortType"),
        ('sortBy: "createdAt", sortType: "newest"', "BAD_USER_INPUT", "sortType"),
        ("start: -1", "BAD_USER_INPUT", "start"),
        ("length: 201", "PAGE_SIZE_TOO_LARGE", "length"),
        ("length: 0", "BAD_USER_INPUT", "length"),
        ("length: -3", "BAD_USER_INPUT", "length"),
    ],
)
async def test_partner_payments_refuse_bad_arguments_naming_them(
    engine: Any, arguments: str, code: str, field: str
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    await commission(f, tenant)

    result = await execute(engine, f"{{ partnerPayments({arguments}) {{ total }} }}", admin(tenant))

    assert result.data is None
    assert_refused(result, code, field)


@dataclass
class CommissionGraph:
    """Commission payments p1..p4 over two partners, two companies and four partner
    users whose names hold LIKE wildcards, plus an acquiring payment p5 that matches
    most filters but is never a commission."""

    tenant_id: int
    partners: dict[str, int] = dataclasses.field(default_factory=dict)
    companies: dict[str, int] = dataclasses.field(default_factory=dict)
    users: dict[str, int] = dataclasses.field(default_factory=dict)
    payments: dict[str, int] = dataclasses.field(default_factory=dict)


@pytest.fixture(scope="module")
async def commissions(engine: Any) -> CommissionGraph:
    f = Factory(engine)
    tenant = await f.tenant()
    graph = CommissionGraph(tenant)
    graph.partners = {"A": await f.partner(tenant), "B": await f.partner(tenant)}
    for name in ("C1", "C2"):
        graph.companies[name] = await f.insert(m.Company, tenant_id=tenant, name=name)
    for key, name, partner in [
        ("ana", "Ana 100% Real", "A"),
        ("ana2", "Ana 1000 Real", "A"),
        ("bob", "Bo_b", "B"),
        ("boxb", "Boxb", "B"),
    ]:
        graph.users[key] = await f.user(
            tenant, name=name, role="partner", partner_id=graph.partners[partner]
        )
    rows = {
        "p1": ("A", "C1", "ana", "payment_requested", "REF-2025-001", date(2025, 1, 1)),
        "p2": ("A", "C2", "ana2", "manually_paid", "ref-2025-002", date(2025, 2, 1)),
        "p3": ("B", "C1", "bob", "generated", "OTHER-9", date(2025, 3, 1)),
        "p4": ("B", None, "boxb", "paid", None, date(2025, 4, 1)),
    }
    for minute, (key, (partner, company, user, status, reference, start)) in enumerate(
        rows.items()
    ):
        graph.payments[key] = await commission(
            f,
            tenant,
            partner_id=graph.partners[partner],
            company_id=graph.companies.get(company or ""),
            user_id=graph.users[user],
            status=status,
            reference=reference,
            period_start=start,
            period_end=start + timedelta(days=27),
            created_at=at(minute),
        )
    graph.payments["p5"] = await acquiring(
        f,
        tenant,
        partner_id=graph.partners["A"],
        company_id=graph.companies["C1"],
        user_id=graph.users["ana"],
        reference="REF-2025-005",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 1, 28),
        created_at=at(10),
    )
    return graph


DOCUMENT_000_FILTERS = [
    # (document 000's parameter, filter built from the graph, matches newest first)
    ("partner_id", lambda g: {"partnerId": {"eq": str(g.partners["A"])}}, ["p2", "p1"]),
    (
        "partner_id as a global ID",
        lambda g: {"partnerId": {"eq": encode("Partner", g.partners["B"])}},
        ["p4", "p3"],
    ),
    (
        "startDate and endDate",
        lambda g: {"periodStart": {"gte": "2025-02-01"}, "periodEnd": {"lte": "2025-03-31"}},
        ["p3", "p2"],
    ),
    ("id", lambda g: {"id": {"eq": str(g.payments["p3"])}}, ["p3"]),
    ("id of a non-commission", lambda g: {"id": {"eq": str(g.payments["p5"])}}, []),
    ("status", lambda g: {"status": {"eq": "PAYMENT_REQUESTED"}}, ["p1"]),
    ("payment_status", lambda g: {"status": {"eq": "MANUALLY_PAID"}}, ["p2"]),
    ("status in", lambda g: {"status": {"in": ["PAID", "MANUALLY_PAID"]}}, ["p4", "p2"]),
    ("reference", lambda g: {"reference": {"eq": "REF-2025-001"}}, ["p1"]),
    ("reference LIKE", lambda g: {"reference": {"contains": "ref-2025"}}, ["p2", "p1"]),
    ("company_id", lambda g: {"companyId": {"eq": str(g.companies["C1"])}}, ["p3", "p1"]),
    ("userId", lambda g: {"userId": {"eq": str(g.users["ana2"])}}, ["p2"]),
    ("name LIKE", lambda g: {"user": {"name": {"contains": "ana"}}}, ["p2", "p1"]),
    ("name with a literal %", lambda g: {"user": {"name": {"contains": "100%"}}}, ["p1"]),
    ("name of only %", lambda g: {"user": {"name": {"contains": "%"}}}, ["p1"]),
    ("name with a literal _", lambda g: {"user": {"name": {"contains": "o_b"}}}, ["p3"]),
    ("name of only _", lambda g: {"user": {"name": {"contains": "_"}}}, ["p3"]),
    (
        "partner_id and status together",
        lambda g: {"partnerId": {"eq": str(g.partners["A"])}, "status": {"eq": "MANUALLY_PAID"}},
        ["p2"],
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"),
    [pytest.param(build, expected, id=name) for name, build, expected in DOCUMENT_000_FILTERS],
)
async def test_partner_payments_express_every_filter_of_document_000(
    engine: Any, commissions: CommissionGraph, build: Any, expected: list[str]
) -> None:
    result = await partner_payments(engine, admin(commissions.tenant_id), filter=build(commissions))

    assert result.errors is None
    answer = result.data["partnerPayments"]
    assert ids(answer["data"]) == [commissions.payments[key] for key in expected]
    assert answer["total"] == len(expected)


async def test_partner_payments_total_counts_matches_beyond_the_page(
    engine: Any, commissions: CommissionGraph
) -> None:
    result = await partner_payments(
        engine,
        admin(commissions.tenant_id),
        filter={"partnerId": {"eq": str(commissions.partners["A"])}},
        length=1,
    )

    answer = result.data["partnerPayments"]
    assert ids(answer["data"]) == [commissions.payments["p2"]]
    assert answer["total"] == 2


async def test_partner_payments_are_open_to_view_partner_payments(
    engine: Any, commissions: CommissionGraph
) -> None:
    result = await partner_payments(engine, caller(commissions.tenant_id, VIEW_PARTNER_PAYMENTS))

    assert result.errors is None
    assert result.data["partnerPayments"]["total"] == 4


async def test_partner_payments_need_document_000s_own_permission_not_view_payments(
    engine: Any, commissions: CommissionGraph
) -> None:
    # Document 000 gates GET /partner-payments on view-partner-payments alone.
    result = await partner_payments(engine, caller(commissions.tenant_id, VIEW_PAYMENTS))

    assert result.data is None
    assert [c for c, _ in errors(result)] == ["FORBIDDEN"]


async def test_partner_payments_are_forbidden_without_a_read_permission(
    engine: Any, commissions: CommissionGraph
) -> None:
    principal = caller(commissions.tenant_id, MANAGE_PAYMENTS, PAY_PARTNERS_PAYMENTS)

    result = await partner_payments(engine, principal)

    assert result.data is None
    assert [c for c, _ in errors(result)] == ["FORBIDDEN"]


async def test_a_partner_users_partner_payments_hold_only_its_own_commissions(
    engine: Any,
) -> None:
    graph = await sibling_partners(Factory(engine))
    me = caller(graph.tenant_id, VIEW_PARTNER_PAYMENTS, partner_id=graph.mine)

    result = await partner_payments(engine, me)

    answer = result.data["partnerPayments"]
    assert ids(answer["data"]) == [graph.my_payments[1].payment]  # the commission
    assert answer["total"] == 1


# =========================================================================================
# Document 000: a payment's detail rows
# =========================================================================================

DETAILS = """
query($id: ID!, $filter: PaymentDetailFilter, $start: Int, $length: Int, $sortBy: String,
      $sortType: String, $first: Int) {
  payment(id: $id) {
    details(filter: $filter, start: $start, length: $length, sortBy: $sortBy,
            sortType: $sortType, first: $first) {
      nodes { databaseId carrier }
      edges { cursor node { databaseId } }
      pageInfo { hasNextPage hasPreviousPage }
      totalCount
      meta { currentPage perPage totalPages totalCount }
    }
  }
}"""


@dataclass
class DetailGraph:
    tenant_id: int
    payment_id: int
    partners: list[int]
    detail_ids: list[int]


# carrier, partner index, amount
DETAIL_ROWS = [
    ("DHL", 0, 500),
    ("UPS", 1, 100),
    ("DHL Express", 0, 300),
    ("FEDEX", 1, 200),
    ("DHL", 1, 400),
]


@pytest.fixture(scope="module")
async def details(engine: Any) -> DetailGraph:
    f = Factory(engine)
    tenant = await f.tenant()
    partners = [await f.partner(tenant), await f.partner(tenant)]
    payment = await commission(f, tenant, partner_id=partners[0])
    other = await commission(f, tenant, partner_id=partners[0])
    detail_ids = []
    for carrier, partner, amount in DETAIL_ROWS:
        detail_ids.append(
            await f.insert(
                m.PaymentDetail,
                tenant_id=tenant,
                payment_id=payment,
                partner_id=partners[partner],
                carrier=carrier,
                amount=amount,
                currency="USD",
            )
        )
    # Another payment's details never show up in this payment's list.
    await f.insert(
        m.PaymentDetail, tenant_id=tenant, payment_id=other, carrier="DHL", amount=1, currency="USD"
    )
    return DetailGraph(tenant, payment, partners, detail_ids)


async def payment_details(engine: Any, graph: DetailGraph, **variables: Any) -> Any:
    return await execute(
        engine, DETAILS, admin(graph.tenant_id), id=str(graph.payment_id), **variables
    )


async def test_payment_details_page_by_start_and_length(engine: Any, details: DetailGraph) -> None:
    result = await payment_details(engine, details, start=2, length=2)

    assert result.errors is None
    page = result.data["payment"]["details"]
    assert ids(page["nodes"]) == details.detail_ids[2:4]
    assert [edge["node"]["databaseId"] for edge in page["edges"]] == details.detail_ids[2:4]
    assert page["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}
    assert page["totalCount"] == 5
    assert page["meta"] == {"currentPage": 2, "perPage": 2, "totalPages": 3, "totalCount": 5}


async def test_payment_details_length_defaults_to_a_hundred_once_start_is_given(
    engine: Any, details: DetailGraph
) -> None:
    from_start = await payment_details(engine, details, start=3)
    from_length = await payment_details(engine, details, length=2)

    start_page = from_start.data["payment"]["details"]
    assert ids(start_page["nodes"]) == details.detail_ids[3:]
    assert start_page["meta"]["perPage"] == 100
    length_page = from_length.data["payment"]["details"]
    assert ids(length_page["nodes"]) == details.detail_ids[:2]
    assert length_page["meta"]["currentPage"] == 1
    assert length_page["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}


async def test_payment_details_without_start_or_length_page_by_cursor(
    engine: Any, details: DetailGraph
) -> None:
    result = await payment_details(engine, details, first=2)

    page = result.data["payment"]["details"]
    assert ids(page["nodes"]) == details.detail_ids[:2]
    assert page["meta"]["currentPage"] is None
    assert page["meta"]["perPage"] == 2


async def test_payment_details_sort_by_a_named_field_with_ids_breaking_ties(
    engine: Any, details: DetailGraph
) -> None:
    d = details.detail_ids

    by_carrier = await payment_details(engine, details, sortBy="carrier", sortType="desc")
    by_amount = await payment_details(engine, details, sortBy="amount", sortType="ASC", start=1)

    # UPS, FEDEX, DHL Express, DHL (id order among the two DHLs)
    assert ids(by_carrier.data["payment"]["details"]["nodes"]) == [d[1], d[3], d[2], d[0], d[4]]
    # amounts 100, 200, 300, 400, 500 from the second row
    assert ids(by_amount.data["payment"]["details"]["nodes"]) == [d[3], d[2], d[4], d[0]]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        pytest.param(
            lambda g: {"partnerId": {"eq": str(g.partners[1])}}, [1, 3, 4], id="partner_id"
        ),
        pytest.param(lambda g: {"carrier": {"contains": "dhl"}}, [0, 2, 4], id="carrier LIKE"),
        pytest.param(lambda g: {"carrier": {"contains": "Ex"}}, [2, 3], id="carrier LIKE 2"),
        pytest.param(lambda g: {"id": {"eq": str(g.detail_ids[3])}}, [3], id="id"),
        pytest.param(
            lambda g: {"carrier": {"contains": "DHL"}, "partnerId": {"eq": str(g.partners[0])}},
            [0, 2],
            id="carrier and partner_id",
        ),
    ],
)
async def test_payment_details_express_the_filters_of_document_000(
    engine: Any, details: DetailGraph, build: Any, expected: list[int]
) -> None:
    result = await payment_details(engine, details, filter=build(details), start=0)

    assert result.errors is None
    page = result.data["payment"]["details"]
    assert ids(page["nodes"]) == [details.detail_ids[i] for i in expected]
    assert page["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("arguments", "code", "field"),
    [
        ("start: 0, first: 2", "BAD_USER_INPUT", "first"),
        ('length: 5, after: "abc"', "BAD_USER_INPUT", "after"),
        ("start: 1, last: 2", "BAD_USER_INPUT", "last"),
        ('length: 5, before: "abc"', "BAD_USER_INPUT", "before"),
        ('sortBy: "carrier", sort: [{field: ID}]', "BAD_USER_INPUT", "sort"),
        ('sortType: "asc", sort: [{field: AMOUNT}]', "BAD_USER_INPUT", "sort"),
        ("length: 201", "PAGE_SIZE_TOO_LARGE", "length"),
        ("start: 0, length: 0", "BAD_USER_INPUT", "length"),
        ("start: -1", "BAD_USER_INPUT", "start"),
        ('sortBy: "weight"', "BAD_USER_INPUT", "sortBy"),
        ('sortType: "sideways"', "BAD_USER_INPUT", "sortType"),
        ("first: 201", "PAGE_SIZE_TOO_LARGE", "first"),
    ],
)
async def test_payment_details_refuse_bad_arguments_naming_them(
    engine: Any, details: DetailGraph, arguments: str, code: str, field: str
) -> None:
    query = f'{{ payment(id: "{details.payment_id}") {{ details({arguments}) {{ totalCount }} }} }}'

    result = await execute(engine, query, admin(details.tenant_id))

    assert result.data == {"payment": None}
    assert_refused(result, code, field)


# =========================================================================================
# Document 001: partner(id) { payments(...) }
# =========================================================================================

PORTFOLIO = """
query($id: ID!, $page: Int! = 0, $pageSize: Int! = 50, $sortBy: PortfolioSortField! = CREATED,
      $sortDirection: SortDirection! = DESC, $fromDate: DateTime, $toDate: DateTime,
      $status: PaymentStatus, $filter: PaymentFilter) {
  partner(id: $id) {
    payments(page: $page, pageSize: $pageSize, sortBy: $sortBy, sortDirection: $sortDirection,
             fromDate: $fromDate, toDate: $toDate, status: $status, filter: $filter) {
      data { databaseId kind } total page pageSize
    }
  }
}"""


@dataclass
class Portfolio:
    """Acquiring payments a0..a3 of `partner`, an hour apart, and payments that must
    never show up in its portfolio."""

    tenant_id: int
    partner: int
    other_partner: int
    payments: list[int]


# created (hours after BASE_TIME), amount, currency, status
PORTFOLIO_ROWS = [
    (0, 1_000, "USD", "created"),
    (1, 500, "JPY", "completed"),
    (2, 2_500, "USD", "processing"),
    (3, 10, "EUR", "completed"),
]


@pytest.fixture(scope="module")
async def portfolio(engine: Any) -> Portfolio:
    f = Factory(engine)
    tenant = await f.tenant()
    partner = await f.partner(tenant)
    other = await f.partner(tenant)
    merchant = await f.insert(
        m.Merchant, tenant_id=tenant, partner_id=partner, name="Shop", external_ref=unique("m")
    )
    payments = [
        await acquiring(
            f,
            tenant,
            partner_id=partner,
            merchant_id=merchant,
            amount=amount,
            currency=currency,
            status=status,
            created_at=at(60 * hours),
            **({"paid_amount": 500, "settleable_amount": 480} if currency == "JPY" else {}),
        )
        for hours, amount, currency, status in PORTFOLIO_ROWS
    ]
    # Not the partner's acquiring payments: a commission, an invoice payment, another
    # partner's acquiring payment.
    await commission(f, tenant, partner_id=partner, created_at=at(30))
    await f.payment(tenant, partner_id=partner, created_at=at(90))
    await acquiring(f, tenant, partner_id=other, created_at=at(100))
    return Portfolio(tenant, partner, other, payments)


async def partner_portfolio(engine: Any, graph: Portfolio, **variables: Any) -> Any:
    variables.setdefault("id", str(graph.partner))
    return await execute(engine, PORTFOLIO, admin(graph.tenant_id), **variables)


def iso(minutes: float) -> str:
    return at(minutes).isoformat()


async def test_a_partners_portfolio_lists_its_acquiring_payments_newest_first(
    engine: Any, portfolio: Portfolio
) -> None:
    result = await partner_portfolio(engine, portfolio)

    assert result.errors is None
    answer = result.data["partner"]["payments"]
    assert ids(answer["data"]) == portfolio.payments[::-1]
    assert {row["kind"] for row in answer["data"]} == {"ACQUIRING"}
    assert (answer["total"], answer["page"], answer["pageSize"]) == (4, 0, 50)


async def test_portfolio_pages_count_from_zero(engine: Any, portfolio: Portfolio) -> None:
    newest_first = portfolio.payments[::-1]

    pages = [
        (await partner_portfolio(engine, portfolio, page=page, pageSize=3)).data["partner"][
            "payments"
        ]
        for page in range(3)
    ]

    assert [ids(page["data"]) for page in pages] == [newest_first[:3], newest_first[3:], []]
    assert [(page["page"], page["pageSize"], page["total"]) for page in pages] == [
        (0, 3, 4),
        (1, 3, 4),
        (2, 3, 4),
    ]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        pytest.param({"fromDate": iso(60), "toDate": iso(120)}, [2, 1], id="both bounds inclusive"),
        pytest.param({"fromDate": iso(60), "toDate": iso(60)}, [1], id="one instant"),
        pytest.param({"fromDate": iso(61)}, [3, 2], id="from only"),
        pytest.param({"toDate": iso(59)}, [0], id="to only"),
        pytest.param(
            {"fromDate": "2025-03-01T13:00:00", "toDate": "2025-03-01T13:00:00"},
            [1],
            id="no offset is UTC",
        ),
        pytest.param(
            {"fromDate": "2025-03-01T13:00:00", "toDate": iso(120)}, [2, 1], id="mixed offsets"
        ),
        pytest.param(
            {"fromDate": "2025-03-01T15:00:00+02:00", "toDate": "2025-03-01T08:00:00-05:00"},
            [1],
            id="other offsets",
        ),
    ],
)
async def test_portfolio_dates_bound_the_creation_time_inclusively(
    engine: Any, portfolio: Portfolio, window: dict[str, str], expected: list[int]
) -> None:
    result = await partner_portfolio(engine, portfolio, **window)

    assert result.errors is None
    answer = result.data["partner"]["payments"]
    assert ids(answer["data"]) == [portfolio.payments[i] for i in expected]
    assert answer["total"] == len(expected)


async def test_portfolio_filters_by_status_and_the_shared_filter(
    engine: Any, portfolio: Portfolio
) -> None:
    a = portfolio.payments

    completed = await partner_portfolio(engine, portfolio, status="COMPLETED")
    dollars = await partner_portfolio(engine, portfolio, filter={"currency": {"eq": "usd"}})
    both = await partner_portfolio(
        engine, portfolio, status="COMPLETED", filter={"amount": {"gte": 100}}
    )

    assert ids(completed.data["partner"]["payments"]["data"]) == [a[3], a[1]]
    assert ids(dollars.data["partner"]["payments"]["data"]) == [a[2], a[0]]
    assert ids(both.data["partner"]["payments"]["data"]) == [a[1]]
    assert both.data["partner"]["payments"]["total"] == 1


@pytest.mark.parametrize(
    ("sort_by", "direction", "expected"),
    [
        ("AMOUNT", "ASC", [3, 1, 0, 2]),
        ("AMOUNT", "DESC", [2, 0, 1, 3]),
        ("CREATED", "ASC", [0, 1, 2, 3]),
        ("STATUS", "ASC", [1, 3, 0, 2]),  # completed, completed, created, processing
    ],
)
async def test_portfolio_sorts_by_the_field_and_direction_asked(
    engine: Any, portfolio: Portfolio, sort_by: str, direction: str, expected: list[int]
) -> None:
    result = await partner_portfolio(engine, portfolio, sortBy=sort_by, sortDirection=direction)

    assert ids(result.data["partner"]["payments"]["data"]) == [
        portfolio.payments[i] for i in expected
    ]


async def test_portfolio_payments_carry_their_amounts_in_document_001s_shape(
    engine: Any, portfolio: Portfolio
) -> None:
    shape = "inPaymentCurrency { amount amountPrecision currencyId } money { amount currency }"
    query = f"""query($id: ID!) {{ partner(id: $id) {{ payments(sortBy: CREATED,
        sortDirection: ASC, pageSize: 2) {{ data {{
          amounts {{ requested {{ {shape} }} paid {{ {shape} }} settleable {{ {shape} }} }}
          amount {{ amount currency precision }}
    }} }} }} }}"""

    result = await execute(engine, query, admin(portfolio.tenant_id), id=str(portfolio.partner))

    assert result.errors is None
    dollars, yen = result.data["partner"]["payments"]["data"]
    assert dollars["amounts"] == {
        "requested": {
            "inPaymentCurrency": {"amount": "1000", "amountPrecision": 2, "currencyId": 840},
            "money": {"amount": "1000", "currency": "USD"},
        },
        "paid": None,
        "settleable": None,
    }
    assert dollars["amount"] == {"amount": "1000", "currency": "USD", "precision": 2}
    assert yen["amounts"] == {
        "requested": {
            "inPaymentCurrency": {"amount": "500", "amountPrecision": 0, "currencyId": 392},
            "money": {"amount": "500", "currency": "JPY"},
        },
        "paid": {
            "inPaymentCurrency": {"amount": "500", "amountPrecision": 0, "currencyId": 392},
            "money": {"amount": "500", "currency": "JPY"},
        },
        "settleable": {
            "inPaymentCurrency": {"amount": "480", "amountPrecision": 0, "currencyId": 392},
            "money": {"amount": "480", "currency": "JPY"},
        },
    }
    assert yen["amount"] == {"amount": "500", "currency": "JPY", "precision": 0}


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        (
            {"fromDate": "2025-03-02T00:00:00Z", "toDate": "2025-03-01T00:00:00Z"},
            "INVALID_DATE_RANGE",
            "fromDate",
        ),
        ({"pageSize": 201}, "PAGE_SIZE_TOO_LARGE", "pageSize"),
        ({"pageSize": 0}, "BAD_USER_INPUT", "pageSize"),
        ({"page": -1}, "BAD_USER_INPUT", "page"),
        ({"status": "PAID"}, "BAD_USER_INPUT", "status"),
        ({"status": "WAITING_FOR_PAYMENT"}, "BAD_USER_INPUT", "status"),
        ({"filter": {"amount": {"gte": 9, "lte": 1}}}, "BAD_USER_INPUT", "filter.amount"),
    ],
)
async def test_portfolio_refuses_bad_arguments_naming_them(
    engine: Any, portfolio: Portfolio, variables: dict[str, Any], code: str, field: str
) -> None:
    result = await partner_portfolio(engine, portfolio, **variables)

    assert result.data == {"partner": None}
    assert_refused(result, code, field)


async def test_a_malformed_from_date_is_bad_user_input_as_a_literal_and_as_a_variable(
    engine: Any, portfolio: Portfolio
) -> None:
    principal = admin(portfolio.tenant_id)
    query = '{ partner(id: "ID") { payments(fromDate: "2025-13-01") { total } } }'
    literal = await execute(engine, query.replace("ID", str(portfolio.partner)), principal)
    variable = await partner_portfolio(engine, portfolio, fromDate="2025-13-01")

    assert literal.data is None
    assert_refused(literal, "BAD_USER_INPUT", None)
    assert variable.data is None
    assert_refused(variable, "BAD_USER_INPUT", None)


async def test_an_unknown_or_foreign_partner_is_partner_not_found(
    engine: Any, portfolio: Portfolio
) -> None:
    elsewhere = await Factory(engine).tenant()

    unknown = await partner_portfolio(engine, portfolio, id="999999999")
    unknown_global = await partner_portfolio(engine, portfolio, id=encode("Partner", 999_999_999))
    foreign = await execute(engine, PORTFOLIO, admin(elsewhere), id=str(portfolio.partner))

    for result in (unknown, unknown_global, foreign):
        assert result.data == {"partner": None}
        assert_refused(result, "PARTNER_NOT_FOUND", "id")


async def test_a_partner_user_reaches_only_its_own_partners_portfolio(engine: Any) -> None:
    graph = await sibling_partners(Factory(engine))
    me = caller(graph.tenant_id, VIEW_PAYMENTS, partner_id=graph.mine)

    own = await execute(engine, PORTFOLIO, me, id=str(graph.mine))
    sibling = await execute(engine, PORTFOLIO, me, id=str(graph.theirs))
    sibling_global = await execute(engine, PORTFOLIO, me, id=encode("Partner", graph.theirs))

    assert own.errors is None
    assert own.data["partner"]["payments"]["total"] == 0  # it has no acquiring payments
    for result in (sibling, sibling_global):
        assert result.data == {"partner": None}
        assert_refused(result, "PARTNER_NOT_FOUND", "id")


# =========================================================================================
# Document 003: payments(page, perPage) and its filters
# =========================================================================================

PAYMENT_PAGE = """
query($page: Int, $perPage: Int, $first: Int, $filter: PaymentFilter) {
  payments(page: $page, perPage: $perPage, first: $first, filter: $filter) {
    nodes { databaseId }
    pageInfo { hasNextPage hasPreviousPage }
    totalCount
    meta { currentPage perPage totalPages totalCount }
  }
}"""


async def invoice_payments(f: Factory, count: int) -> tuple[int, list[int]]:
    tenant = await f.tenant()
    rows = [{"created_at": at(i)} for i in range(count)]
    return tenant, await bulk_payments(f, tenant, rows)


async def test_payments_page_by_one_based_page_and_per_page(engine: Any) -> None:
    tenant, payments = await invoice_payments(Factory(engine), 7)

    pages = [
        (await execute(engine, PAYMENT_PAGE, admin(tenant), page=page, perPage=3)).data["payments"]
        for page in (1, 2, 3, 4)
    ]

    assert [ids(page["nodes"]) for page in pages] == [
        payments[0:3],
        payments[3:6],
        payments[6:],
        [],
    ]
    assert [page["meta"] for page in pages] == [
        {"currentPage": n, "perPage": 3, "totalPages": 3, "totalCount": 7} for n in (1, 2, 3, 4)
    ]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, True, False, False]
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False, True, True, True]


async def test_payments_per_page_defaults_to_25_and_page_to_the_first(engine: Any) -> None:
    tenant, payments = await invoice_payments(Factory(engine), 27)

    second = await execute(engine, PAYMENT_PAGE, admin(tenant), page=2)
    first = await execute(engine, PAYMENT_PAGE, admin(tenant), perPage=10)
    largest = await execute(engine, PAYMENT_PAGE, admin(tenant), perPage=200)

    assert ids(second.data["payments"]["nodes"]) == payments[25:]
    assert second.data["payments"]["meta"] == {
        "currentPage": 2,
        "perPage": 25,
        "totalPages": 2,
        "totalCount": 27,
    }
    assert ids(first.data["payments"]["nodes"]) == payments[:10]
    assert first.data["payments"]["meta"]["currentPage"] == 1
    assert ids(largest.data["payments"]["nodes"]) == payments


async def test_payments_without_page_arguments_page_by_cursor_fifty_at_a_time(
    engine: Any,
) -> None:
    tenant, payments = await invoice_payments(Factory(engine), 52)

    result = await execute(engine, PAYMENT_PAGE, admin(tenant))

    answer = result.data["payments"]
    assert ids(answer["nodes"]) == payments[:50]
    assert answer["meta"] == {"currentPage": None, "perPage": 50, "totalPages": 2, "totalCount": 52}
    assert answer["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}


@pytest.mark.parametrize(
    ("arguments", "code", "field"),
    [
        ("page: 0", "BAD_USER_INPUT", "page"),
        ("page: -2, perPage: 10", "BAD_USER_INPUT", "page"),
        ("perPage: 201", "PAGE_SIZE_TOO_LARGE", "perPage"),
        ("page: 2, perPage: 0", "BAD_USER_INPUT", "perPage"),
        ("page: 1, first: 2", "BAD_USER_INPUT", "first"),
        ('page: 1, after: "abc"', "BAD_USER_INPUT", "after"),
        ("perPage: 5, last: 2", "BAD_USER_INPUT", "last"),
    ],
)
async def test_payments_page_arguments_refuse_bad_values_naming_them(
    engine: Any, arguments: str, code: str, field: str
) -> None:
    tenant = await Factory(engine).tenant()

    result = await execute(engine, f"{{ payments({arguments}) {{ totalCount }} }}", admin(tenant))

    assert result.data is None
    assert_refused(result, code, field)


@dataclass
class InvoicePayments:
    """Invoice payments q0..q3 between three addresses, with two invoices, two
    authorizers and three payment methods."""

    tenant_id: int
    other_tenant_id: int
    ref: dict[str, int] = dataclasses.field(default_factory=dict)
    payments: list[int] = dataclasses.field(default_factory=list)


@pytest.fixture(scope="module")
async def invoice_graph(engine: Any) -> InvoicePayments:
    f = Factory(engine)
    tenant = await f.tenant()
    graph = InvoicePayments(tenant, await f.tenant())
    r = graph.ref
    for name, city in (("A1", "Austin"), ("A2", "Monterrey"), ("A3", "Lyon")):
        r[name] = await f.insert(
            m.Address, tenant_id=tenant, name=name, line1="1 Main St", city=city, country_code="US"
        )
    for name in ("I1", "I2"):
        r[name] = await f.insert(
            m.Invoice,
            tenant_id=tenant,
            number=unique("INV-"),
            total_amount=10_000,
            paid_amount=0,
            currency="USD",
            status="open",
            issued_on=date(2025, 3, 1),
        )
    r["U1"], r["U2"] = await f.user(tenant), await f.user(tenant)
    for name, kind in (("M1", "check"), ("M2", "card"), ("M3", "cash")):
        r[name] = await f.insert(m.PaymentMethod, tenant_id=tenant, name=name, method_type=kind)
    rows: list[dict[str, Any]] = [
        {"invoice_id": r["I1"], "sender_id": r["A1"], "receiver_id": r["A2"],
         "payment_method_id": r["M1"], "authorized": True, "authorized_by_id": r["U1"],
         "amount": 1_000, "currency": "USD", "payment_date": date(2025, 4, 1),
         "created_at": at(0), "updated_at": at(10)},
        {"invoice_id": r["I1"], "sender_id": r["A2"], "receiver_id": r["A3"],
         "payment_method_id": r["M2"], "authorized": False, "authorized_by_id": None,
         "amount": 2_500, "currency": "EUR", "payment_date": date(2025, 4, 15),
         "created_at": at(1), "updated_at": at(1)},
        {"invoice_id": r["I2"], "sender_id": r["A3"], "receiver_id": r["A1"],
         "payment_method_id": r["M3"], "authorized": True, "authorized_by_id": r["U2"],
         "amount": 300, "currency": "JPY", "payment_date": date(2025, 5, 1),
         "created_at": at(2), "updated_at": at(2)},
        {"invoice_id": None, "sender_id": r["A3"], "receiver_id": r["A3"],
         "payment_method_id": None, "authorized": False, "authorized_by_id": None,
         "amount": 50, "currency": "MXN", "payment_date": None,
         "created_at": at(3), "updated_at": at(3)},
    ]  # fmt: skip
    graph.payments = await bulk_payments(f, tenant, rows)
    return graph


DOCUMENT_003_FILTERS = [
    # (document 003's parameter, filter built from the graph, matching q-indexes)
    ("invoice_id", lambda g: {"invoiceId": {"eq": str(g.ref["I1"])}}, [0, 1]),
    ("invoice_id global", lambda g: {"invoiceId": {"eq": encode("Invoice", g.ref["I2"])}}, [2]),
    ("no invoice", lambda g: {"invoiceId": {"isNull": True}}, [3]),
    ("sender_id", lambda g: {"senderId": {"eq": str(g.ref["A3"])}}, [2, 3]),
    ("receiver_id", lambda g: {"receiverId": {"eq": str(g.ref["A1"])}}, [2]),
    ("address by id", lambda g: {"address": {"id": {"eq": str(g.ref["A1"])}}}, [0, 2]),
    ("address by city", lambda g: {"address": {"city": {"eq": "Lyon"}}}, [1, 2, 3]),
    ("authorized_by_id", lambda g: {"authorizedById": {"eq": str(g.ref["U2"])}}, [2]),
    ("host_id", lambda g: {"tenantId": {"eq": str(g.tenant_id)}}, [0, 1, 2, 3]),
    ("another host_id", lambda g: {"tenantId": {"eq": str(g.other_tenant_id)}}, []),
    (
        "payment_method (multiple)",
        lambda g: {"paymentMethodId": {"in": [str(g.ref["M1"]), str(g.ref["M3"])]}},
        [0, 2],
    ),
    ("authorized", lambda g: {"authorized": {"eq": True}}, [0, 2]),
    ("not authorized", lambda g: {"authorized": {"eq": False}}, [1, 3]),
    ("amount range", lambda g: {"amount": {"gte": "1000", "lte": 2500}}, [0, 1]),
    ("currency (multiple)", lambda g: {"currency": {"in": ["USD", "eur"]}}, [0, 1]),
    ("currency any case", lambda g: {"currency": {"eq": "jpy"}}, [2]),
    (
        "date",
        lambda g: {"paymentDate": {"gte": "2025-04-10", "lte": "2025-05-01"}},
        [1, 2],
    ),
    ("no date", lambda g: {"paymentDate": {"isNull": True}}, [3]),
    (
        "created_at",
        lambda g: {"createdAt": {"gte": iso(1), "lte": iso(2)}},
        [1, 2],
    ),
    ("updated_at", lambda g: {"updatedAt": {"gte": iso(5)}}, [0]),
    (
        "several together",
        lambda g: {"address": {"city": {"eq": "Lyon"}}, "authorized": {"eq": True}},
        [2],
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"),
    [pytest.param(build, expected, id=name) for name, build, expected in DOCUMENT_003_FILTERS],
)
async def test_payments_express_every_filter_of_document_003(
    engine: Any, invoice_graph: InvoicePayments, build: Any, expected: list[int]
) -> None:
    result = await execute(
        engine, PAYMENT_PAGE, admin(invoice_graph.tenant_id), filter=build(invoice_graph), page=1
    )

    assert result.errors is None
    answer = result.data["payments"]
    assert ids(answer["nodes"]) == [invoice_graph.payments[i] for i in expected]
    assert answer["meta"]["totalCount"] == len(expected)


@pytest.mark.parametrize("codes", [["XXZ"], ["USD", "dollars"], ["usd", ""]])
async def test_an_unknown_currency_code_is_bad_user_input(
    engine: Any, invoice_graph: InvoicePayments, codes: list[str]
) -> None:
    result = await execute(
        engine,
        PAYMENT_PAGE,
        admin(invoice_graph.tenant_id),
        filter={"currency": {"in": codes}},
    )

    assert result.data is None
    assert_refused(result, "BAD_USER_INPUT", None)
    assert errors(result)[0][1].startswith("filter.currency.in")


# =========================================================================================
# Relay connections under every list
# =========================================================================================


async def test_every_list_caps_first_at_two_hundred_and_refuses_first_with_last(
    engine: Any,
) -> None:
    graph = await sibling_partners(Factory(engine))
    principal = admin(graph.tenant_id)
    payment = graph.my_payments[0].payment
    invoice = graph.shared_invoice
    lists = [
        "payments(ARGS) { totalCount }",
        "invoices(ARGS) { totalCount }",
        "addresses(ARGS) { totalCount }",
        "partners(ARGS) { totalCount }",
        f'payment(id: "{payment}") {{ details(ARGS) {{ totalCount }} }}',
        f'payment(id: "{payment}") {{ documents(ARGS) {{ totalCount }} }}',
        f'payment(id: "{payment}") {{ events(ARGS) {{ totalCount }} }}',
        f'payment(id: "{payment}") {{ accountingTransactions(ARGS) {{ totalCount }} }}',
        f'invoice(id: "{invoice}") {{ payments(ARGS) {{ totalCount }} }}',
        f'partner(id: "{graph.mine}") {{ children(ARGS) {{ totalCount }} }}',
        f'partner(id: "{graph.mine}") {{ merchants(ARGS) {{ totalCount }} }}',
    ]

    for listed in lists:
        largest = await execute(engine, f"{{ {listed.replace('ARGS', 'first: 200')} }}", principal)
        too_large = await execute(
            engine, f"{{ {listed.replace('ARGS', 'first: 201')} }}", principal
        )
        both = await execute(
            engine, f"{{ {listed.replace('ARGS', 'first: 1, last: 1')} }}", principal
        )

        assert largest.errors is None, listed
        assert_refused(too_large, "PAGE_SIZE_TOO_LARGE", "first")
        assert [c for c, _ in errors(both)] == ["BAD_USER_INPUT"], listed


CURSOR_PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $sort: [PaymentSort!]) {
  payments(first: $first, after: $after, last: $last, before: $before, sort: $sort) {
    nodes { databaseId }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

NEWEST_FIRST = [{"field": "CREATED_AT", "direction": "DESC"}]


async def test_a_cursor_from_one_sort_is_refused_by_another_naming_the_argument(
    engine: Any,
) -> None:
    tenant, _ = await invoice_payments(Factory(engine), 4)
    principal = admin(tenant)
    page = await execute(engine, CURSOR_PAGE, principal, first=2, sort=NEWEST_FIRST)
    info = page.data["payments"]["pageInfo"]

    by_amount = await execute(
        engine, CURSOR_PAGE, principal, first=2, after=info["endCursor"],
        sort=[{"field": "AMOUNT"}],
    )  # fmt: skip
    by_default = await execute(engine, CURSOR_PAGE, principal, first=2, after=info["endCursor"])
    oldest_first = await execute(
        engine, CURSOR_PAGE, principal, last=2, before=info["startCursor"],
        sort=[{"field": "CREATED_AT", "direction": "ASC"}],
    )  # fmt: skip

    assert_refused(by_amount, "BAD_USER_INPUT", "after")
    assert_refused(by_default, "BAD_USER_INPUT", "after")
    assert_refused(oldest_first, "BAD_USER_INPUT", "before")


async def test_keyset_cursors_survive_rows_inserted_before_them(engine: Any) -> None:
    # Given six payments walked oldest first, two at a time
    f = Factory(engine)
    tenant, payments = await invoice_payments(f, 6)
    principal = admin(tenant)
    oldest_first = [{"field": "CREATED_AT", "direction": "ASC"}]
    first = await execute(engine, CURSOR_PAGE, principal, first=2, sort=oldest_first)
    seen = ids(first.data["payments"]["nodes"])
    cursor = first.data["payments"]["pageInfo"]["endCursor"]

    # When payments that sort before the cursor arrive (one older than every row, one at
    # the cursor row's own moment but with a larger id, so it sorts just after it)
    earlier = await f.payment(tenant, created_at=at(-10))
    tied = await f.payment(tenant, created_at=at(1))
    while cursor is not None:
        page = (
            await execute(engine, CURSOR_PAGE, principal, first=2, after=cursor, sort=oldest_first)
        ).data["payments"]
        seen += ids(page["nodes"])
        cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None

    # Then the walk neither repeats nor skips a payment that was there before
    assert [row for row in seen if row in payments] == payments
    assert len(set(seen)) == len(seen)
    assert earlier not in seen  # it sorts before the cursor: a fresh walk finds it
    assert tied in seen


async def test_walking_backwards_with_last_and_before_returns_every_row_once(
    engine: Any,
) -> None:
    tenant, payments = await invoice_payments(Factory(engine), 7)
    principal = admin(tenant)

    pages: list[list[int]] = []
    before = None
    while True:
        result = await execute(
            engine, CURSOR_PAGE, principal, last=3, before=before, sort=NEWEST_FIRST
        )
        page = result.data["payments"]
        pages.insert(0, ids(page["nodes"]))
        assert page["pageInfo"]["hasNextPage"] is (before is not None)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]

    assert pages == [payments[::-1][:1], payments[::-1][1:4], payments[::-1][4:]]


# =========================================================================================
# Validation: every bad argument is BAD_USER_INPUT naming it, and changes nothing
# =========================================================================================

BAD_INPUT = [
    # (query, variables, field, or None when only the code is fixed)
    ("{ payments(sort: [{field: NOPE}]) { totalCount } }", {}, "sort.0.field"),
    ("{ payments(sort: [{field: AMOUNT}, {field: AMOUNT}]) { totalCount } }", {}, "sort[1]"),
    ('{ partnerPayments(sortBy: "nope") { total } }', {}, "sortBy"),
    ("{ partnerPayments(start: -5) { total } }", {}, "start"),
    ("{ payments(filter: {status: {in: []}}) { totalCount } }", {}, "filter.status.in"),
    ("{ payments(filter: {amount: {gte: 500, lte: 100}}) { totalCount } }", {}, "filter.amount"),
    (
        '{ invoices(filter: {issuedOn: {gte: "2025-05-01", lte: "2025-04-01"}}) { totalCount } }',
        {},
        "filter.issuedOn",
    ),
    (
        '{ payments(filter: {createdAt: {gte: "2025-03-02T00:00:00Z", '
        'lte: "2025-03-01T00:00:00Z"}}) { totalCount } }',
        {},
        "filter.createdAt",
    ),
    (
        "{ payments(filter: {or: [{amount: {eq: 1}}, {kind: {in: []}}]}) { totalCount } }",
        {},
        "filter.or[1].kind.in",
    ),
    ('{ payments(filter: {paymentDate: {gte: "2025-13-01"}}) { totalCount } }', {}, None),
    ('{ payments(filter: {createdAt: {lte: "not a date"}}) { totalCount } }', {}, None),
    (
        "query($d: Date) { payments(filter: {paymentDate: {gte: $d}}) { totalCount } }",
        {"d": "2025-13-01"},
        None,
    ),
    (
        "query($f: PaymentFilter) { payments(filter: $f) { totalCount } }",
        {"f": {"createdAt": {"gte": "2025-02-30T00:00:00"}}},
        None,
    ),
]


@pytest.mark.parametrize(("query", "variables", "field"), BAD_INPUT)
async def test_bad_input_is_bad_user_input_naming_the_argument_and_changes_nothing(
    engine: Any, query: str, variables: dict[str, Any], field: str | None
) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    await commission(f, tenant)
    await f.payment(tenant)
    before = await payment_total(engine, tenant)

    result = await execute(engine, query, admin(tenant), **variables)

    assert result.data is None
    assert_refused(result, "BAD_USER_INPUT", field)
    assert result.errors[0].extensions.get("field")  # some argument is always named
    assert await payment_total(engine, tenant) == before == 2
