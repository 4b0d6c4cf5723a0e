"""What `aggregate` and `groupBy` cost in SQL statements, what they refuse, and whose
payments they measure.

Measures come from one GROUP BY statement per aggregate shape (list, filter, keys and
page of groups), whatever the number of payments, groups or parents: the statement
counts below do not grow with the data. Refused arguments cost no aggregate statement.
A partner user's measures hold its own partner's payments only, and no measure ever
holds another tenant's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.permissions import VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from domain.principal import Credential, Principal
from tests.factories import Factory, payment_row, unique
from tests.graphql import admin, compiling, count_statements, execute, global_id

PAYMENT = m.Base.metadata.tables["payment"]
CURRENCIES = ("USD", "EUR", "JPY")
START = datetime(2025, 1, 30, 22, 0, tzinfo=UTC)


def grouped_statements(statements: list[str]) -> list[str]:
    """The aggregate statements: a GROUP BY measuring the amounts (a child list's count
    groups too, by parent, but sums nothing)."""
    return [s for s in statements if "GROUP BY" in s.upper() and "amount_sum" in s]


@dataclass
class Shop:
    """A tenant with partners, each with merchants, each with payments."""

    tenant_id: int
    partner_ids: list[int] = field(default_factory=list)
    merchant_ids: list[int] = field(default_factory=list)
    payments_of: dict[int, int] = field(default_factory=dict)  # merchant -> payments
    rows: list[dict[str, Any]] = field(default_factory=list)


async def shop(engine: AsyncEngine, *, partners: int, merchants_each: int, payments: int) -> Shop:
    """`payments` payments spread over every merchant (and a few with none), three
    currencies and several days."""
    factory = Factory(engine)
    built = Shop(await factory.tenant())
    for _ in range(partners):
        partner = await factory.partner(built.tenant_id, kind="isv")
        built.partner_ids.append(partner)
        for _ in range(merchants_each):
            merchant = await factory.insert(
                m.Merchant,
                tenant_id=built.tenant_id,
                partner_id=partner,
                name=unique("Shop "),
                external_ref=unique("mrc_"),
            )
            built.merchant_ids.append(merchant)
    partner_of = {
        merchant: built.partner_ids[i // merchants_each]
        for i, merchant in enumerate(built.merchant_ids)
    }
    rows = built.rows
    for n in range(payments):
        owner = None if n % 7 == 6 else built.merchant_ids[n % len(built.merchant_ids)]
        if owner is not None:
            built.payments_of[owner] = built.payments_of.get(owner, 0) + 1
        rows.append(
            payment_row(
                built.tenant_id,
                kind="acquiring",
                status="completed" if n % 2 else "created",
                amount=100 * n + 1,
                paid_amount=None if n % 3 else 100 * n,
                currency=CURRENCIES[n % len(CURRENCIES)],
                created_at=START + timedelta(hours=5 * n),
                partner_id=None if owner is None else partner_of[owner],
                merchant_id=owner,
            )
        )
    async with engine.begin() as connection:
        await connection.execute(insert(PAYMENT), rows)
    return built


MEASURE = (
    "currency count amount { amount currency } paidAmount { amount } settleableAmount { amount }"
)
ROOT_AGGREGATES = f"""
{{
  payments {{
    aggregate {{
      count sum {{ {MEASURE} }} avg {{ {MEASURE} }} min {{ {MEASURE} }} max {{ {MEASURE} }}
    }}
    groupBy(by: [MERCHANT, CURRENCY]) {{
      hasNextPage
      nodes {{ keys {{ merchant {{ databaseId name }} currency }} count }}
    }}
  }}
}}
"""
# Through the resolvers: the payments page, the aggregate, the groups, and the groups'
# merchants (two of them GROUP BY statements). Compiled (PostgreSQL): one statement.
ROOT_STATEMENTS = 4


def merchant_id(keys: dict[str, Any]) -> int | None:
    """A group's merchant id, from `keys { merchant { databaseId } }`; None for no merchant."""
    merchant = keys["merchant"]
    return None if merchant is None else merchant["databaseId"]


@pytest.mark.parametrize("payments", [10, 200])
async def test_root_aggregate_and_groups_cost_the_same_statements_for_10_or_200_payments(
    engine: AsyncEngine, payments: int
) -> None:
    built = await shop(engine, partners=2, merchants_each=2, payments=payments)
    with count_statements(engine) as counted:
        result = await execute(engine, ROOT_AGGREGATES, admin(built.tenant_id))
    assert result.errors is None, result.errors
    found = result.data["payments"]
    assert found["aggregate"]["count"] == payments
    assert [entry["currency"] for entry in found["aggregate"]["sum"]] == sorted(CURRENCIES)
    total = sum(100 * n + 1 for n in range(payments))
    assert sum(int(e["amount"]["amount"]) for e in found["aggregate"]["sum"]) == total
    groups = found["groupBy"]["nodes"]
    assert sum(group["count"] for group in groups) == payments
    # merchants in id order, NULL last, then currencies; at most 5 x 3 groups
    pairs = {(row["merchant_id"], row["currency"]) for row in built.rows}
    expected = sorted(pairs, key=lambda pair: (pair[0] is None, pair[0] or 0, pair[1]))
    assert [(merchant_id(g["keys"]), g["keys"]["currency"]) for g in groups] == expected
    assert len(groups) == (5 * 3 if payments == 200 else len(pairs))
    assert not found["groupBy"]["hasNextPage"]
    assert all(
        group["keys"]["merchant"] is None or group["keys"]["merchant"]["name"] for group in groups
    )
    if compiling(engine):
        assert len(counted) == 1, counted.statements
    else:
        assert len(counted) == ROOT_STATEMENTS, counted.statements
        assert len(grouped_statements(counted.statements)) == 2, counted.statements


NESTED_AGGREGATES = """
{
  partners {
    nodes {
      databaseId
      merchants {
        nodes {
          databaseId
          payments {
            aggregate { count sum { currency count amount { amount } } }
            groupBy(by: [DAY]) { nodes { count } }
          }
        }
      }
    }
  }
}
"""
# Through the resolvers: partners, their merchants, the merchants' payment pages, one
# aggregate statement and one groups statement for every merchant at once. Compiled
# (PostgreSQL): one statement.
NESTED_STATEMENTS = 5


@pytest.mark.parametrize("partners", [2, 12])
async def test_every_merchants_aggregate_is_one_statement_for_2_or_12_partners(
    engine: AsyncEngine, partners: int
) -> None:
    built = await shop(engine, partners=partners, merchants_each=2, payments=10 * partners)
    with count_statements(engine) as counted:
        result = await execute(engine, NESTED_AGGREGATES, admin(built.tenant_id))
    assert result.errors is None, result.errors
    nodes = result.data["partners"]["nodes"]
    assert len(nodes) == partners
    merchants = [merchant for partner in nodes for merchant in partner["merchants"]["nodes"]]
    assert len(merchants) == 2 * partners
    for merchant in merchants:
        expected = built.payments_of.get(merchant["databaseId"], 0)
        payments = merchant["payments"]
        assert payments["aggregate"]["count"] == expected, merchant
        assert sum(e["count"] for e in payments["aggregate"]["sum"]) == expected, merchant
        assert sum(g["count"] for g in payments["groupBy"]["nodes"]) == expected, merchant
    if compiling(engine):
        assert len(counted) == 1, counted.statements
        return
    assert len(counted) == NESTED_STATEMENTS, counted.statements
    aggregates = grouped_statements(counted.statements)
    assert len(aggregates) == 2, aggregates


EVERY_MEASURE = f"""
fragment Measures on PaymentGroup {{
  count sum {{ {MEASURE} }} avg {{ {MEASURE} }} min {{ {MEASURE} }} max {{ {MEASURE} }}
}}
{{
  payments(first: 1) {{
    aggregate {{
      count sum {{ {MEASURE} }} avg {{ {MEASURE} }} min {{ {MEASURE} }} max {{ {MEASURE} }}
      again: avg {{ {MEASURE} }}
    }}
    groupBy(by: [MERCHANT, CURRENCY], first: 10) {{ nodes {{ ...Measures }} }}
    byDay: groupBy(by: [DAY], first: 10) {{ nodes {{ ...Measures again: avg {{ {MEASURE} }} }} }}
  }}
}}
"""
# The compiled statement of EVERY_MEASURE writes each measure of each money field once
# per measured list (db.compiled_reads._with_values): 41,560 characters. Written out
# wherever an object named them (each value several times, each mean's rounding a dozen
# times more) it was 137,931.
EVERY_MEASURE_CHARACTERS = 60_000


async def test_every_measure_of_every_money_field_is_written_once_in_the_statement(
    engine: AsyncEngine,
) -> None:
    built = await shop(engine, partners=2, merchants_each=2, payments=30)
    with count_statements(engine) as counted:
        result = await execute(engine, EVERY_MEASURE, admin(built.tenant_id))
    assert result.errors is None, result.errors
    found = result.data["payments"]
    assert found["aggregate"]["again"] == found["aggregate"]["avg"]
    assert sum(group["count"] for group in found["byDay"]["nodes"]) == 30
    if not compiling(engine):
        return
    [statement] = counted.statements
    assert len(statement) < EVERY_MEASURE_CHARACTERS, len(statement)


ROOT_GROUPS = """
query Groups($by: [PaymentGroupKey!]!, $first: Int!, $offset: Int!) {
  payments(first: 1) {
    groupBy(by: $by, first: $first, offset: $offset) { nodes { count } }
  }
}
"""
CHILD_GROUPS = """
query ChildGroups($by: [PaymentGroupKey!]!, $first: Int!, $offset: Int!) {
  partners {
    nodes {
      merchants {
        nodes { payments(first: 1) { groupBy(by: $by, first: $first, offset: $offset) {
          nodes { count }
        } } }
      }
    }
  }
}
"""
FIVE_KEYS = ["MERCHANT", "TERMINAL", "CURRENCY", "STATUS", "KIND"]
REFUSALS = [
    pytest.param({"by": [], "first": 50, "offset": 0}, "BAD_USER_INPUT", "by", id="no keys"),
    pytest.param(
        {"by": FIVE_KEYS, "first": 50, "offset": 0}, "BAD_USER_INPUT", "by", id="five keys"
    ),
    pytest.param(
        {"by": ["DAY"], "first": 201, "offset": 0},
        "PAGE_SIZE_TOO_LARGE",
        "first",
        id="first 201",
    ),
    pytest.param({"by": ["DAY"], "first": 0, "offset": 0}, "BAD_USER_INPUT", "first", id="first 0"),
    pytest.param(
        {"by": ["DAY"], "first": 50, "offset": -1}, "BAD_USER_INPUT", "offset", id="offset -1"
    ),
]


@pytest.mark.parametrize("document", [ROOT_GROUPS, CHILD_GROUPS], ids=["root", "child"])
@pytest.mark.parametrize(("arguments", "code", "argument"), REFUSALS)
async def test_refused_group_arguments_cost_no_aggregate_statement(
    engine: AsyncEngine, document: str, arguments: dict[str, Any], code: str, argument: str
) -> None:
    built = await shop(engine, partners=1, merchants_each=2, payments=6)
    with count_statements(engine) as counted:
        result = await execute(engine, document, admin(built.tenant_id), **arguments)
    assert result.errors, result.data
    assert {error.extensions["code"] for error in result.errors} == {code}, result.errors
    assert {error.extensions.get("field") for error in result.errors} == {argument}
    assert grouped_statements(counted.statements) == []


async def test_the_largest_page_of_groups_is_taken(engine: AsyncEngine) -> None:
    built = await shop(engine, partners=1, merchants_each=1, payments=6)
    keys = ["DAY", "CURRENCY", "STATUS", "KIND"]
    arguments: dict[str, Any] = {"by": keys, "first": 200, "offset": 0}
    result = await execute(engine, ROOT_GROUPS, admin(built.tenant_id), **arguments)
    assert result.errors is None, result.errors
    assert sum(node["count"] for node in result.data["payments"]["groupBy"]["nodes"]) == 6


# ---------------------------------------------------------------------------------------
# Whose payments are measured


@dataclass
class TwoTenants:
    tenant_id: int
    other_tenant_id: int
    partners: list[int]
    merchants: list[int]
    user_id: int  # the user of partners[0]


# (partner index or None, kind, status, currency, amount); merchant i belongs to partner i
TENANT_PAYMENTS = [
    (0, "acquiring", "completed", "USD", 100),
    (0, "commission", "paid", "USD", 1_000),
    (0, "invoice", "recorded", "EUR", 10),
    (1, "acquiring", "completed", "USD", 7),
    (1, "commission", "paid", "USD", 70_000),
    (None, "invoice", "recorded", "USD", 5),
]


async def two_tenants(engine: AsyncEngine) -> TwoTenants:
    factory = Factory(engine)
    tenant = await factory.tenant()
    partners = [await factory.partner(tenant, kind="isv") for _ in range(2)]
    merchants = [
        await factory.insert(
            m.Merchant,
            tenant_id=tenant,
            partner_id=partner,
            name=f"Shop {i}",
            external_ref=unique("mrc_"),
        )
        for i, partner in enumerate(partners)
    ]
    user = await factory.user(tenant, role="partner", partner_id=partners[0])
    rows = [
        payment_row(
            tenant,
            kind=kind,
            status=status,
            currency=currency,
            amount=amount,
            partner_id=None if index is None else partners[index],
            merchant_id=None if index is None else merchants[index],
        )
        for index, kind, status, currency, amount in TENANT_PAYMENTS
    ]
    # Another tenant: a payment of its own, and one pointing at the first tenant's
    # partner and merchant, which must not count there either.
    other = await factory.tenant()
    other_partner = await factory.partner(other, kind="isv")
    rows += [
        payment_row(
            other,
            kind="acquiring",
            status="completed",
            amount=3,
            partner_id=other_partner,
            merchant_id=None,
        ),
        payment_row(
            other,
            kind="commission",
            status="paid",
            amount=999_999,
            partner_id=partners[0],
            merchant_id=merchants[0],
        ),
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(PAYMENT), rows)
    return TwoTenants(tenant, other, partners, merchants, user)


def partner_user(world: TwoTenants, *permissions: str) -> Principal:
    return Principal(
        tenant_id=world.tenant_id,
        user_id=world.user_id,
        credential=Credential.JWT,
        permissions=frozenset(permissions),
        partner_id=world.partners[0],
    )


SCOPED = """
query Scoped($ownMerchant: ID!) {
  payments {
    aggregate { count sum { currency count amount { amount } } }
    groupBy(by: [MERCHANT]) { nodes { keys { merchant { databaseId } } count } }
  }
  partners { nodes { databaseId merchants { nodes {
    databaseId payments { aggregate { count sum { currency amount { amount } } } }
  } } } }
  own: node(id: $ownMerchant) { ... on Merchant { payments { aggregate { count } } } }
}
"""
# The other partner's lists, through lookups: out of a partner user's scope they are
# not found (null, with NOT_FOUND / document 001's PARTNER_NOT_FOUND), so their measures
# are never reached.
LOOKUPS = """
query Lookups($otherMerchant: ID!, $otherPartner: ID!) {
  otherMerchant: node(id: $otherMerchant) {
    ... on Merchant { payments { aggregate { count } } }
  }
  otherPartner: partner(id: $otherPartner) { payments { aggregate { count } } }
}
"""


def sums(aggregate: dict[str, Any]) -> dict[str, int]:
    return {entry["currency"]: int(entry["amount"]["amount"]) for entry in aggregate["sum"]}


async def scoped(engine: AsyncEngine, world: TwoTenants, principal: Principal) -> Any:
    result = await execute(
        engine, SCOPED, principal, ownMerchant=global_id("Merchant", world.merchants[0])
    )
    assert result.errors is None, result.errors
    return result.data


async def lookups(engine: AsyncEngine, world: TwoTenants, principal: Principal) -> Any:
    return await execute(
        engine,
        LOOKUPS,
        principal,
        otherMerchant=global_id("Merchant", world.merchants[1]),
        otherPartner=global_id("Partner", world.partners[1]),
    )


async def test_a_partner_users_measures_hold_only_its_partners_payments(
    engine: AsyncEngine,
) -> None:
    world = await two_tenants(engine)
    own_merchant = world.merchants[0]

    data = await scoped(engine, world, partner_user(world, VIEW_PAYMENTS))
    aggregate = data["payments"]["aggregate"]
    assert aggregate["count"] == 3
    assert sums(aggregate) == {"EUR": 10, "USD": 1_100}
    assert data["payments"]["groupBy"]["nodes"] == [
        {"keys": {"merchant": {"databaseId": own_merchant}}, "count": 3}
    ]
    [partner] = data["partners"]["nodes"]
    assert partner["databaseId"] == world.partners[0]
    [merchant] = partner["merchants"]["nodes"]
    assert merchant["databaseId"] == own_merchant
    assert merchant["payments"]["aggregate"]["count"] == 3
    assert sums(merchant["payments"]["aggregate"]) == {"EUR": 10, "USD": 1_100}
    assert data["own"] == {"payments": {"aggregate": {"count": 3}}}
    result = await lookups(engine, world, partner_user(world, VIEW_PAYMENTS))
    assert result.data == {"otherMerchant": None, "otherPartner": None}, result.data
    codes = {tuple(error.path): error.extensions["code"] for error in result.errors}
    assert codes == {("otherMerchant",): "NOT_FOUND", ("otherPartner",): "PARTNER_NOT_FOUND"}

    # `view-partner-payments` alone: the partner's commission payments only.
    data = await scoped(engine, world, partner_user(world, VIEW_PARTNER_PAYMENTS))
    assert data["payments"]["aggregate"]["count"] == 1
    assert sums(data["payments"]["aggregate"]) == {"USD": 1_000}
    assert data["own"] == {"payments": {"aggregate": {"count": 1}}}

    # A filter naming another partner reaches nothing.
    result = await execute(
        engine,
        """query($partner: ID!) { payments(filter: { partnerId: { eq: $partner } }) {
             aggregate { count } groupBy(by: [CURRENCY]) { nodes { count } } } }""",
        partner_user(world, VIEW_PAYMENTS),
        partner=str(world.partners[1]),
    )
    assert result.errors is None, result.errors
    assert result.data["payments"] == {"aggregate": {"count": 0}, "groupBy": {"nodes": []}}


async def test_no_measure_holds_another_tenants_payments(engine: AsyncEngine) -> None:
    world = await two_tenants(engine)

    data = await scoped(engine, world, admin(world.tenant_id))
    aggregate = data["payments"]["aggregate"]
    assert aggregate["count"] == len(TENANT_PAYMENTS)
    assert sums(aggregate) == {"EUR": 10, "USD": 100 + 1_000 + 7 + 70_000 + 5}
    assert [(merchant_id(g["keys"]), g["count"]) for g in data["payments"]["groupBy"]["nodes"]] == [
        (world.merchants[0], 3),
        (world.merchants[1], 2),
        (None, 1),
    ]
    counts = {
        merchant["databaseId"]: merchant["payments"]["aggregate"]["count"]
        for partner in data["partners"]["nodes"]
        for merchant in partner["merchants"]["nodes"]
    }
    assert counts == {world.merchants[0]: 3, world.merchants[1]: 2}
    result = await lookups(engine, world, admin(world.tenant_id))
    assert result.errors is None, result.errors
    # The merchant's payments; the partner's portfolio (its acquiring payments).
    assert result.data == {
        "otherMerchant": {"payments": {"aggregate": {"count": 2}}},
        "otherPartner": {"payments": {"aggregate": {"count": 1}}},
    }

    # The other tenant's admin: its own two payments, even the one naming this tenant's
    # partner and merchant; none of this tenant's.
    result = await execute(
        engine,
        "{ payments { aggregate { count sum { currency amount { amount } } } } }",
        admin(world.other_tenant_id),
    )
    assert result.errors is None, result.errors
    assert result.data["payments"]["aggregate"]["count"] == 2
    assert sums(result.data["payments"]["aggregate"]) == {"USD": 3 + 999_999}


async def test_a_sum_beyond_64_bits_is_amount_out_of_range_on_either_backend(
    engine: AsyncEngine,
) -> None:
    # given two payments whose amounts are each valid, but whose sum is not a BigInt
    factory = Factory(engine)
    tenant = await factory.tenant()
    largest = 2**63 - 1
    rows = [
        payment_row(tenant, kind="acquiring", status="completed", amount=largest, currency="USD")
        for _ in range(2)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(PAYMENT), rows)

    # when the sum is asked for, and only the maximum
    summed = await execute(
        engine, "{ payments { aggregate { sum { amount { amount } } } } }", admin(tenant)
    )
    largest_only = await execute(
        engine, "{ payments { aggregate { count max { amount { amount } } } } }", admin(tenant)
    )

    # then the sum is refused with its own code, the same on SQLite and PostgreSQL
    assert summed.errors is not None
    assert [e.extensions["code"] for e in summed.errors] == ["AMOUNT_OUT_OF_RANGE"]
    assert largest_only.errors is None
    assert largest_only.data["payments"]["aggregate"] == {
        "count": 2,
        "max": [{"amount": {"amount": str(largest)}}],
    }
