"""`partner(id) { portfolio(fromDate, toDate) }` on SQLite and PostgreSQL against seeded
rows: every number checked against a plain-Python oracle over the rows as inserted, the
window's bounds, INVALID_DATE_RANGE, the caller's scope, and the SQL statements the
whole selection costs for 1 and for 5 partners."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.permissions import ALL_PERMISSIONS, VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from domain.principal import Credential, Principal
from domain.statuses import STATUSES_BY_KIND, PaymentKind
from tests.factories import Factory, unique
from tests.graphql import admin, count_statements, execute
from tests.integration.test_document_lists import bulk_payments

FROM = datetime(2024, 5, 1, tzinfo=UTC)
TO = datetime(2024, 5, 31, 23, 59, 59, 999_999, tzinfo=UTC)
ACQUIRING = [s.value for s in STATUSES_BY_KIND[PaymentKind.ACQUIRING]]
CURRENCIES = ("EUR", "JPY", "USD")

VOLUME = "currency count volume { amount currency } paidVolume { amount } averageTicket { amount }"
PORTFOLIO = f"""
fromDate toDate count
volume {{ {VOLUME} }}
statusMix {{ status count shareBasisPoints volume {{ {VOLUME} }} }}
exceptions {{ status count shareBasisPoints volume {{ {VOLUME} }} }}
merchants(first: $first, offset: $offset) {{
  hasNextPage nodes {{ merchant {{ databaseId name }} count volume {{ {VOLUME} }} }}
}}
"""
ONE = f"""
query($id: ID!, $from: DateTime, $to: DateTime, $first: Int! = 50, $offset: Int! = 0) {{
  partner(id: $id) {{ databaseId portfolio(fromDate: $from, toDate: $to) {{ {PORTFOLIO} }} }}
}}
"""
EVERY = f"""
query($from: DateTime, $to: DateTime, $first: Int! = 50, $offset: Int! = 0) {{
  partners(first: 50) {{ nodes {{
    databaseId name portfolio(fromDate: $from, toDate: $to) {{ {PORTFOLIO} }}
  }} }}
}}
"""


# --- seeded rows and the oracle -----------------------------------------------------------


@dataclass
class Row:
    partner_id: int | None
    merchant_id: int | None
    kind: str
    status: str
    currency: str
    amount: int
    paid_amount: int | None
    created_at: datetime


@dataclass
class Estate:
    tenant_id: int
    partners: list[int]
    merchants: dict[int, str]  # every merchant of every partner, with its name
    rows: list[Row] = field(default_factory=list)

    def portfolio(
        self, partner_id: int, start: datetime | None = FROM, end: datetime | None = TO
    ) -> list[Row]:
        return [
            row
            for row in self.rows
            if row.partner_id == partner_id
            and row.kind == "acquiring"
            and (start is None or row.created_at >= start)
            and (end is None or row.created_at <= end)
        ]


def half_even(numerator: int, denominator: int) -> int:
    return round(Fraction(numerator, denominator))


def volumes(rows: list[Row]) -> list[dict[str, Any]]:
    found = []
    for currency in sorted({row.currency for row in rows}):
        mine = [row for row in rows if row.currency == currency]
        amount = sum(row.amount for row in mine)
        paid = [row.paid_amount for row in mine if row.paid_amount is not None]
        found.append(
            {
                "currency": currency,
                "count": len(mine),
                "volume": {"amount": str(amount), "currency": currency},
                "paidVolume": {"amount": str(sum(paid))} if paid else None,
                "averageTicket": {"amount": str(half_even(amount, len(mine)))},
            }
        )
    return found


def status_entry(rows: list[Row], status: str, total: int) -> dict[str, Any]:
    mine = [row for row in rows if row.status == status]
    return {
        "status": status.upper(),
        "count": len(mine),
        "shareBasisPoints": half_even(len(mine) * 10_000, total) if total else 0,
        "volume": volumes(mine),
    }


def expected_portfolio(
    estate: Estate,
    partner_id: int,
    start: datetime | None = FROM,
    end: datetime | None = TO,
    *,
    first: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    rows = estate.portfolio(partner_id, start, end)
    merchants = sorted({row.merchant_id for row in rows}, key=lambda i: (i is None, i or 0))
    page = merchants[offset : offset + first]
    return {
        "fromDate": None if start is None else start.isoformat(),
        "toDate": None if end is None else end.isoformat(),
        "count": len(rows),
        "volume": volumes(rows),
        "statusMix": [
            status_entry(rows, status, len(rows))
            for status in ACQUIRING
            if any(row.status == status for row in rows)
        ],
        "exceptions": [
            status_entry(rows, status, len(rows)) for status in ("invalid", "underpaid")
        ],
        "merchants": {
            "hasNextPage": len(merchants) > offset + first,
            "nodes": [
                {
                    "merchant": None
                    if merchant is None
                    else {"databaseId": merchant, "name": estate.merchants[merchant]},
                    "count": sum(1 for row in rows if row.merchant_id == merchant),
                    "volume": volumes([row for row in rows if row.merchant_id == merchant]),
                }
                for merchant in page
            ],
        },
    }


async def seed_estate(engine: AsyncEngine, partners: int = 3, seed: int = 1) -> Estate:
    """A tenant with `partners` partners of 3 merchants each; acquiring payments in and
    around May 2024 (on both bounds, a microsecond outside them), without a merchant,
    with unknown paid amounts; other kinds; and another tenant's rows."""
    f = Factory(engine)
    rnd = random.Random(seed)
    tenant = await f.tenant()
    estate = Estate(tenant, [], {})
    by_partner: dict[int, list[int]] = defaultdict(list)
    for number in range(partners):
        partner = await f.partner(tenant, name=unique(f"Portfolio partner {number} "))
        estate.partners.append(partner)
        for shop in range(3):
            name = unique(f"Shop {number}.{shop} ")
            merchant = await f.insert(
                m.Merchant,
                tenant_id=tenant,
                partner_id=partner,
                name=name,
                external_ref=unique("mrc_"),
            )
            estate.merchants[merchant] = name
            by_partner[partner].append(merchant)

    def moment() -> datetime:
        return FROM + timedelta(
            seconds=rnd.randint(0, 30 * 86_400), microseconds=rnd.randint(0, 10**6 - 1)
        )

    for partner in estate.partners:
        for index in range(rnd.randint(25, 45)):
            currency = rnd.choice(CURRENCIES)
            amount = rnd.randint(1, 500_000)
            estate.rows.append(
                Row(
                    partner,
                    rnd.choice(by_partner[partner]),
                    "acquiring",
                    rnd.choice(ACQUIRING),
                    currency,
                    amount,
                    None if index % 4 == 0 else amount - rnd.randint(0, 1000),
                    moment(),
                )
            )
        first_merchant = by_partner[partner][0]
        for created in (
            FROM,
            TO,
            FROM - timedelta(microseconds=1),
            TO + timedelta(microseconds=1),
            FROM - timedelta(days=40),
        ):
            estate.rows.append(
                Row(partner, first_merchant, "acquiring", "completed", "USD", 777, 777, created)
            )
        estate.rows.append(  # an acquiring payment of no merchant
            Row(partner, None, "acquiring", "processing", "EUR", 321, None, moment())
        )
        for kind, status in (
            ("commission", "paid"),
            ("reseller", "completed"),
            ("invoice", "recorded"),
        ):
            estate.rows.append(
                Row(partner, first_merchant, kind, status, "USD", 999_999, 999_999, moment())
            )
    await bulk_payments(f, tenant, [payment_values(row) for row in estate.rows])
    other_tenant = await f.tenant()
    outsider = await f.partner(other_tenant)
    await bulk_payments(
        f,
        other_tenant,
        [payment_values(Row(outsider, None, "acquiring", "invalid", "USD", 5, 5, moment()))],
    )
    return estate


def payment_values(row: Row) -> dict[str, Any]:
    return {
        "partner_id": row.partner_id,
        "merchant_id": row.merchant_id,
        "kind": row.kind,
        "status": row.status,
        "currency": row.currency,
        "amount": row.amount,
        "paid_amount": row.paid_amount,
        "settleable_amount": None,
        "created_at": row.created_at,
        "updated_at": row.created_at,
    }


def partner_user(estate: Estate, partner_id: int, *permissions: str) -> Principal:
    return Principal(
        tenant_id=estate.tenant_id,
        user_id=None,
        credential=Credential.JWT,
        permissions=frozenset(permissions or ALL_PERMISSIONS),
        partner_id=partner_id,
    )


async def portfolio(
    engine: AsyncEngine, principal: Principal, partner_id: int | str, **variables: Any
) -> Any:
    arguments = {"from": FROM.isoformat(), "to": TO.isoformat(), **variables}
    return await execute(engine, ONE, principal, id=str(partner_id), **arguments)


def codes(result: Any) -> list[tuple[str, str | None]]:
    return [(e.extensions["code"], e.extensions.get("field")) for e in result.errors or []]


# --- the numbers ------------------------------------------------------------------------


async def test_a_partners_portfolio_is_the_oracles(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine)

    for partner in estate.partners:
        result = await portfolio(engine, admin(estate.tenant_id), partner)

        assert result.errors is None, result.errors
        assert result.data["partner"]["databaseId"] == partner
        assert result.data["partner"]["portfolio"] == expected_portfolio(estate, partner)


async def test_the_window_is_inclusive_and_optional(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine, partners=1, seed=2)
    [partner] = estate.partners
    caller = admin(estate.tenant_id)

    # on both bounds: the payments at FROM and at TO count, the microsecond outside not
    inside = estate.portfolio(partner)
    assert {FROM, TO} <= {row.created_at for row in inside}
    everything = await portfolio(engine, caller, partner, **{"from": None, "to": None})
    since = await portfolio(engine, caller, partner, to=None)
    until = await portfolio(engine, caller, partner, **{"from": None})
    instant = await portfolio(engine, caller, partner, to=FROM.isoformat())

    assert everything.data["partner"]["portfolio"] == expected_portfolio(
        estate, partner, None, None
    )
    assert since.data["partner"]["portfolio"] == expected_portfolio(estate, partner, FROM, None)
    assert until.data["partner"]["portfolio"] == expected_portfolio(estate, partner, None, TO)
    assert instant.data["partner"]["portfolio"]["count"] == 1  # the payment at FROM only
    assert instant.data["partner"]["portfolio"] == expected_portfolio(estate, partner, FROM, FROM)


async def test_a_moment_without_an_offset_is_utc_and_one_with_an_offset_is_converted(
    engine: AsyncEngine,
) -> None:
    estate = await seed_estate(engine, partners=1, seed=3)
    [partner] = estate.partners
    caller = admin(estate.tenant_id)

    naive = await portfolio(
        engine,
        caller,
        partner,
        **{"from": "2024-05-01T00:00:00", "to": "2024-05-31T23:59:59.999999"},
    )
    shifted = await portfolio(
        engine,
        caller,
        partner,
        **{"from": "2024-05-01T02:00:00+02:00", "to": "2024-05-31T20:59:59.999999-03:00"},
    )

    expected = expected_portfolio(estate, partner)
    for result in (naive, shifted):
        assert result.errors is None, result.errors
        found = result.data["partner"]["portfolio"]
        assert {k: v for k, v in found.items() if k not in ("fromDate", "toDate")} == {
            k: v for k, v in expected.items() if k not in ("fromDate", "toDate")
        }


async def test_averages_round_half_to_even_and_shares_add_up(engine: AsyncEngine) -> None:
    # Given amounts whose means are x.5 (half up and half to even disagree on two of them)
    f = Factory(engine)
    tenant = await f.tenant()
    partner = await f.partner(tenant)
    at = FROM + timedelta(days=1)
    rows = [
        ("USD", 100, "completed"),
        ("USD", 101, "completed"),  # mean 100.5 -> 100
        ("EUR", 1, "invalid"),
        ("EUR", 2, "completed"),  # mean 1.5 -> 2
        ("JPY", 4, "created"),
        ("JPY", 5, "created"),  # mean 4.5 -> 4
    ]
    await bulk_payments(
        f,
        tenant,
        [
            {
                "kind": "acquiring",
                "partner_id": partner,
                "currency": c,
                "amount": a,
                "status": s,
                "paid_amount": None,
                "created_at": at,
                "updated_at": at,
            }
            for c, a, s in rows
        ],
    )

    result = await portfolio(engine, admin(tenant), partner)

    assert result.errors is None, result.errors
    found = result.data["partner"]["portfolio"]
    assert [(v["currency"], v["averageTicket"]["amount"]) for v in found["volume"]] == [
        ("EUR", "2"),
        ("JPY", "4"),
        ("USD", "100"),
    ]
    assert all(v["paidVolume"] is None for v in found["volume"])
    # 3 of 6 completed, 2 created, 1 invalid: 5000 + 3333 + 1667 basis points
    assert [(s["status"], s["count"], s["shareBasisPoints"]) for s in found["statusMix"]] == [
        ("CREATED", 2, 3_333),
        ("COMPLETED", 3, 5_000),
        ("INVALID", 1, 1_667),
    ]
    assert sum(s["shareBasisPoints"] for s in found["statusMix"]) == 10_000
    assert [(s["status"], s["count"], s["shareBasisPoints"]) for s in found["exceptions"]] == [
        ("INVALID", 1, 1_667),
        ("UNDERPAID", 0, 0),
    ]
    assert found["exceptions"][1]["volume"] == []


async def test_an_empty_portfolio_has_zeroes_and_both_exceptions(engine: AsyncEngine) -> None:
    f = Factory(engine)
    tenant = await f.tenant()
    partner = await f.partner(tenant)

    result = await portfolio(engine, admin(tenant), partner)

    assert result.errors is None, result.errors
    found = result.data["partner"]["portfolio"]
    assert (found["count"], found["volume"], found["statusMix"]) == (0, [], [])
    assert found["exceptions"] == [
        {"status": "INVALID", "count": 0, "shareBasisPoints": 0, "volume": []},
        {"status": "UNDERPAID", "count": 0, "shareBasisPoints": 0, "volume": []},
    ]
    assert found["merchants"] == {"hasNextPage": False, "nodes": []}


async def test_the_merchants_page_by_first_and_offset_with_no_merchant_last(
    engine: AsyncEngine,
) -> None:
    estate = await seed_estate(engine, partners=1, seed=4)
    [partner] = estate.partners
    caller = admin(estate.tenant_id)
    merchants = {row.merchant_id for row in estate.portfolio(partner)}
    assert None in merchants
    assert len(merchants) == 4  # three merchants and "none"

    pages = []
    for offset in (0, 2, 4):
        result = await portfolio(engine, caller, partner, first=2, offset=offset)
        assert result.errors is None, result.errors
        found = result.data["partner"]["portfolio"]["merchants"]
        assert found == expected_portfolio(estate, partner, first=2, offset=offset)["merchants"]
        pages.append(found)

    assert [page["hasNextPage"] for page in pages] == [True, False, False]
    ids = [
        None if node["merchant"] is None else node["merchant"]["databaseId"]
        for page in pages
        for node in page["nodes"]
    ]
    assert ids[:3] == sorted(ids[:3])
    assert ids[3] is None
    assert pages[1]["nodes"][1]["merchant"] is None
    assert pages[2]["nodes"] == []


async def test_bad_merchant_windows_are_refused_with_their_codes(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine, partners=1, seed=5)
    [partner] = estate.partners
    caller = admin(estate.tenant_id)

    too_many = await portfolio(engine, caller, partner, first=201)
    none = await portfolio(engine, caller, partner, first=0)
    negative = await portfolio(engine, caller, partner, offset=-1)
    most = await portfolio(engine, caller, partner, first=200)

    assert codes(too_many) == [("PAGE_SIZE_TOO_LARGE", "first")]
    assert codes(none) == [("BAD_USER_INPUT", "first")]
    assert codes(negative) == [("BAD_USER_INPUT", "offset")]
    assert most.errors is None


async def test_a_reversed_window_is_invalid_date_range(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine, partners=1, seed=6)
    [partner] = estate.partners

    result = await portfolio(
        engine, admin(estate.tenant_id), partner, **{"from": TO.isoformat(), "to": FROM.isoformat()}
    )
    just_reversed = await portfolio(
        engine,
        admin(estate.tenant_id),
        partner,
        **{"from": FROM.isoformat(), "to": (FROM - timedelta(microseconds=1)).isoformat()},
    )

    for refused in (result, just_reversed):
        assert codes(refused) == [("INVALID_DATE_RANGE", "fromDate")]
        assert refused.data is None or refused.data["partner"] is None


# --- who sees what ------------------------------------------------------------------------


async def test_a_partner_user_sees_its_own_portfolio_and_no_other(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine, partners=2, seed=7)
    mine, theirs = estate.partners
    caller = partner_user(estate, mine)

    own = await portfolio(engine, caller, mine)
    other = await portfolio(engine, caller, theirs)
    listed = await execute(
        engine, EVERY, caller, **{"from": FROM.isoformat(), "to": TO.isoformat()}
    )

    assert own.errors is None, own.errors
    assert own.data["partner"]["portfolio"] == expected_portfolio(estate, mine)
    assert codes(other) == [("PARTNER_NOT_FOUND", "id")]
    assert other.data == {"partner": None}
    assert listed.errors is None, listed.errors
    [node] = listed.data["partners"]["nodes"]
    assert node["databaseId"] == mine
    assert node["portfolio"] == expected_portfolio(estate, mine)


async def test_another_tenants_partner_is_not_found(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine, partners=1, seed=8)
    stranger = await Factory(engine).tenant()

    result = await portfolio(engine, admin(stranger), estate.partners[0])

    assert codes(result) == [("PARTNER_NOT_FOUND", "id")]


async def test_a_reader_of_commissions_only_sees_an_empty_portfolio(engine: AsyncEngine) -> None:
    # `view-partner-payments` reads commission payments only: no acquiring payment counts
    estate = await seed_estate(engine, partners=1, seed=9)
    [partner] = estate.partners
    caller = Principal(
        tenant_id=estate.tenant_id,
        user_id=None,
        credential=Credential.JWT,
        permissions=frozenset({VIEW_PARTNER_PAYMENTS}),
    )

    result = await portfolio(engine, caller, partner)

    assert result.errors is None, result.errors
    found = result.data["partner"]["portfolio"]
    assert (found["count"], found["volume"], found["statusMix"]) == (0, [], [])
    assert [e["count"] for e in found["exceptions"]] == [0, 0]


async def test_a_viewer_of_payments_sees_the_same_numbers_as_an_admin(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine, partners=1, seed=10)
    [partner] = estate.partners
    viewer = Principal(
        tenant_id=estate.tenant_id,
        user_id=None,
        credential=Credential.JWT,
        permissions=frozenset({VIEW_PAYMENTS}),
    )

    result = await portfolio(engine, viewer, partner)

    assert result.data["partner"]["portfolio"] == expected_portfolio(estate, partner)


# --- statements -------------------------------------------------------------------------

# partners page (1) + by status and currency (1) + by merchant and currency (1) + the
# merchants' names (1): the same for 1 partner as for 5
PORTFOLIO_STATEMENTS = 4


async def every_portfolio(engine: AsyncEngine, partners: int, seed: int) -> tuple[Estate, Any, int]:
    estate = await seed_estate(engine, partners=partners, seed=seed)
    with count_statements(engine) as counter:
        result = await execute(
            engine,
            EVERY,
            admin(estate.tenant_id),
            **{"from": FROM.isoformat(), "to": TO.isoformat()},
        )
    assert result.errors is None, result.errors
    return estate, result.data, len(counter)


async def test_every_partners_portfolio_costs_a_fixed_number_of_statements(
    engine: AsyncEngine,
) -> None:
    one_estate, one, for_one = await every_portfolio(engine, 1, seed=11)
    five_estate, five, for_five = await every_portfolio(engine, 5, seed=12)

    print(f"portfolio statements: 1 partner -> {for_one}, 5 partners -> {for_five}")
    assert for_one == for_five == PORTFOLIO_STATEMENTS
    for estate, data in ((one_estate, one), (five_estate, five)):
        nodes = data["partners"]["nodes"]
        assert [node["databaseId"] for node in nodes] == estate.partners
        for node in nodes:
            assert node["portfolio"] == expected_portfolio(estate, node["databaseId"])


async def test_a_partner_users_portfolio_costs_the_same_statements(engine: AsyncEngine) -> None:
    estate = await seed_estate(engine, partners=5, seed=13)

    with count_statements(engine) as counter:
        result = await execute(
            engine,
            EVERY,
            partner_user(estate, estate.partners[2]),
            **{"from": FROM.isoformat(), "to": TO.isoformat()},
        )

    assert result.errors is None, result.errors
    assert len(result.data["partners"]["nodes"]) == 1
    assert len(counter) == PORTFOLIO_STATEMENTS
