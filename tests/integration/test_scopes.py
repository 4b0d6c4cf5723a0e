"""Partner-user and reseller-manager scopes on a real database: at every depth of the
graph, in node lookups and in counts, a row outside the caller's scope does not exist."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import update

from db import models as m
from db.credentials import create_manager_token, manager_principal, reseller_tree
from db.engine import read_engine
from domain.permissions import ALL_PERMISSIONS, VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from domain.principal import Credential, Principal
from resolvers.cursors import encode
from tests.factories import Factory
from tests.graphql import execute
from tests.scoped_graphs import reseller_tree as build_tree
from tests.scoped_graphs import sibling_partners

PAYMENT_PARTS = """
  __typename databaseId partner { __typename databaseId }
  details { totalCount nodes { __typename databaseId payment { __typename databaseId } } }
  documents { totalCount nodes { __typename databaseId } }
  events { totalCount nodes { __typename databaseId } }
  accountingTransactions { totalCount nodes { __typename databaseId } }
"""

# From every root list, through invoices and addresses, back to payments and below.
DEEP = f"""{{
  payments {{ totalCount nodes {{
    {PAYMENT_PARTS}
    invoice {{ __typename databaseId payments {{ totalCount nodes {{ {PAYMENT_PARTS} }} }} }}
    sender {{ __typename databaseId
      paymentsSent {{ totalCount nodes {{ {PAYMENT_PARTS} }} }}
      paymentsReceived {{ totalCount nodes {{ __typename databaseId }} }} }}
    receiver {{ __typename databaseId
      paymentsReceived {{ totalCount nodes {{ {PAYMENT_PARTS} }} }} }}
  }} }}
  invoices {{ totalCount nodes {{ __typename databaseId
    payments {{ totalCount nodes {{ {PAYMENT_PARTS} }} }} }} }}
  addresses {{ totalCount nodes {{ __typename databaseId
    paymentsSent {{ totalCount nodes {{ __typename databaseId }} }}
    paymentsReceived {{ totalCount nodes {{ __typename databaseId }} }} }} }}
  partners {{ totalCount nodes {{ __typename databaseId
    parent {{ __typename databaseId }}
    children {{ totalCount nodes {{ __typename databaseId }} }}
    payments(pageSize: 200) {{ total data {{ {PAYMENT_PARTS} }} }}
    merchants {{ totalCount nodes {{ __typename databaseId
      payments {{ totalCount nodes {{ {PAYMENT_PARTS} }} }} }} }} }} }}
}}"""

NODE = "query($id: ID!) { node(id: $id) { id } }"


def seen(data: Any, found: dict[str, set[int]] | None = None) -> dict[str, set[int]]:
    """Every object in an answer, by GraphQL type: {"Payment": {ids}, ...}."""
    found = defaultdict(set) if found is None else found
    if isinstance(data, dict):
        if "__typename" in data and "databaseId" in data:
            found[data["__typename"]].add(data["databaseId"])
        for value in data.values():
            seen(value, found)
    elif isinstance(data, list):
        for item in data:
            seen(item, found)
    return found


def totals(data: Any) -> set[int]:
    """Every totalCount anywhere in an answer."""
    counts: set[int] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "totalCount":
                counts.add(value)
            else:
                counts |= totals(value)
    elif isinstance(data, list):
        for item in data:
            counts |= totals(item)
    return counts


def partner_user(tenant_id: int, user_id: int, partner_id: int, *permissions: str) -> Principal:
    return Principal(
        tenant_id=tenant_id,
        user_id=user_id,
        credential=Credential.JWT,
        permissions=frozenset(permissions or {VIEW_PAYMENTS}),
        partner_id=partner_id,
    )


async def assert_not_found(engine: Any, principal: Principal, type_name: str, row_id: int) -> None:
    """Out of scope answers exactly like an id that was never used."""
    result = await execute(engine, NODE, principal, id=encode(type_name, row_id))
    missing = await execute(engine, NODE, principal, id=encode(type_name, 999_999_999))
    assert result.data == missing.data == {"node": None}
    assert [e.extensions["code"] for e in result.errors] == ["NOT_FOUND"]
    assert result.errors[0].message.replace(encode(type_name, row_id), "ID") == (
        missing.errors[0].message.replace(encode(type_name, 999_999_999), "ID")
    )


# --- partner users ----------------------------------------------------------------------


async def test_a_partner_user_sees_only_its_partners_payments_at_every_depth(engine: Any) -> None:
    graph = await sibling_partners(Factory(engine))
    me = partner_user(graph.tenant_id, graph.mine_user, graph.mine)

    result = await execute(engine, DEEP, me)

    assert result.errors is None
    found = seen(result.data)
    mine = {rows.payment for rows in graph.my_payments}
    assert found["Payment"] == mine
    assert found["PaymentDetail"] == {rows.detail for rows in graph.my_payments}
    assert found["PaymentDocument"] == {rows.document for rows in graph.my_payments}
    assert found["PaymentEvent"] == {rows.event for rows in graph.my_payments}
    assert found["AccountingTransaction"] == {rows.ledger for rows in graph.my_payments}
    assert found["Partner"] == {graph.mine}  # not the parent, not the sibling
    assert found["Invoice"] == {graph.shared_invoice}
    assert found["Address"] == {graph.sender, graph.receiver}
    # Every list counts only what the partner may see: two payments at most anywhere.
    assert totals(result.data) <= {0, 1, 2}
    assert result.data["payments"]["totalCount"] == 2
    assert result.data["invoices"]["nodes"][0]["payments"]["totalCount"] == 1


async def test_another_partners_rows_answer_like_missing_ones(engine: Any) -> None:
    graph = await sibling_partners(Factory(engine))
    me = partner_user(graph.tenant_id, graph.mine_user, graph.mine)

    for rows in graph.their_payments:
        for type_name, row_id in rows.rows().items():
            await assert_not_found(engine, me, type_name, row_id)
    await assert_not_found(engine, me, "Partner", graph.theirs)
    await assert_not_found(engine, me, "Invoice", graph.their_invoice)
    await assert_not_found(engine, me, "Address", graph.their_sender)
    lookup = "query($id: ID!) { payment(id: $id) { id } }"
    numeric = await execute(engine, lookup, me, id=str(graph.their_payments[0].payment))
    assert [e.extensions["code"] for e in numeric.errors] == ["NOT_FOUND"]


async def test_a_partner_user_with_view_partner_payments_reads_commissions_only(
    engine: Any,
) -> None:
    graph = await sibling_partners(Factory(engine))
    me = partner_user(graph.tenant_id, graph.mine_user, graph.mine, VIEW_PARTNER_PAYMENTS)

    result = await execute(engine, DEEP, me)

    assert result.errors is None
    commission = graph.my_payments[1]
    assert seen(result.data)["Payment"] == {commission.payment}
    assert seen(result.data)["Invoice"] == set()  # the commission pays no invoice
    await assert_not_found(engine, me, "Payment", graph.my_payments[0].payment)


async def test_the_viewer_of_a_partner_user_names_its_scope(engine: Any) -> None:
    graph = await sibling_partners(Factory(engine))
    me = partner_user(graph.tenant_id, graph.mine_user, graph.mine, VIEW_PARTNER_PAYMENTS)
    query = """{ viewer { credential scope permissions paymentKinds partner { databaseId }
      reseller { id } scopePartners { nodes { databaseId } } } }"""

    result = await execute(engine, query, me)

    assert result.data["viewer"] == {
        "credential": "JWT",
        "scope": "PARTNER",
        "permissions": ["view-partner-payments"],
        "paymentKinds": ["COMMISSION"],
        "partner": {"databaseId": graph.mine},
        "reseller": None,
        "scopePartners": {"nodes": [{"databaseId": graph.mine}]},
    }


async def test_a_tenant_admin_sees_both_partners(engine: Any) -> None:
    graph = await sibling_partners(Factory(engine))
    admin = Principal(graph.tenant_id, graph.admin_id, Credential.JWT, ALL_PERMISSIONS)

    result = await execute(engine, DEEP, admin)

    everything = graph.my_payments + graph.their_payments
    assert seen(result.data)["Payment"] == {rows.payment for rows in everything}
    viewer = await execute(
        engine, "{ viewer { scope paymentKinds scopePartners { nodes { id } } } }", admin
    )
    assert viewer.data["viewer"] == {"scope": "TENANT", "paymentKinds": None, "scopePartners": None}


# --- reseller managers ------------------------------------------------------------------


async def manager_of(engine: Any, tenant_id: int, reseller_id: int) -> tuple[str, Principal]:
    async with engine.begin() as connection:
        token = await create_manager_token(
            connection,
            tenant_id=tenant_id,
            reseller_id=reseller_id,
            email=f"manager-{reseller_id}@example.test",
            name="Manager",
            permissions=[VIEW_PAYMENTS],
        )
    principal = await manager_principal(read_engine(engine), token)
    assert principal is not None
    return token, principal


async def test_a_manager_sees_its_reseller_and_every_reseller_below(engine: Any) -> None:
    tree = await build_tree(Factory(engine))
    _, manager = await manager_of(engine, tree.tenant_id, tree.own)

    result = await execute(engine, DEEP, manager)

    assert result.errors is None
    found = seen(result.data)
    allowed = ("own", "child", "grandchild")
    assert found["Payment"] == {tree.payments[name].payment for name in allowed}
    assert found["PaymentDetail"] == {tree.payments[name].detail for name in allowed}
    assert found["Partner"] == {tree.own, tree.child, tree.grandchild}
    assert result.data["partners"]["totalCount"] == 3
    own = next(p for p in result.data["partners"]["nodes"] if p["databaseId"] == tree.own)
    assert own["parent"] is None  # the parent reseller is outside the scope
    for name in ("parent", "sibling"):
        for type_name, row_id in tree.payments[name].rows().items():
            await assert_not_found(engine, manager, type_name, row_id)
        await assert_not_found(engine, manager, "Partner", tree.reseller(name))


async def test_a_managers_scope_comes_from_the_database_when_the_token_is_used(
    engine: Any,
) -> None:
    tree = await build_tree(Factory(engine))
    token, before = await manager_of(engine, tree.tenant_id, tree.own)
    assert before.reseller_tree == {tree.own, tree.child, tree.grandchild}
    assert before.credential is Credential.API_TOKEN and before.reseller_id == tree.own

    # Move the sibling under the manager's reseller: the next request sees it.
    async with engine.begin() as connection:
        await connection.execute(
            update(m.Partner.__table__)
            .where(m.Partner.__table__.c.id == tree.sibling)
            .values(parent_id=tree.child)
        )
    after = await manager_principal(read_engine(engine), token)

    assert after is not None
    assert after.reseller_tree == {tree.own, tree.child, tree.grandchild, tree.sibling}


async def test_a_revoked_or_unknown_token_names_no_manager(engine: Any) -> None:
    tree = await build_tree(Factory(engine))
    token, _ = await manager_of(engine, tree.tenant_id, tree.own)
    table = m.ApiToken.__table__
    async with engine.begin() as connection:
        await connection.execute(
            update(table)
            .where(table.c.reseller_id == tree.own)
            .values(revoked_at=table.c.created_at)
        )

    assert await manager_principal(read_engine(engine), token) is None
    assert await manager_principal(read_engine(engine), token + "x") is None


async def test_the_reseller_tree_query_survives_a_cycle(engine: Any) -> None:
    tree = await build_tree(Factory(engine))
    async with engine.begin() as connection:
        table = m.Partner.__table__
        await connection.execute(
            update(table).where(table.c.id == tree.own).values(parent_id=tree.grandchild)
        )
        found = await reseller_tree(connection, tree.tenant_id, tree.own)

    assert found == {tree.own, tree.child, tree.grandchild}


async def test_a_managers_viewer_names_its_reseller_tree(engine: Any) -> None:
    tree = await build_tree(Factory(engine))
    _, manager = await manager_of(engine, tree.tenant_id, tree.own)
    query = """{ viewer { credential scope reseller { databaseId }
      scopePartners { totalCount nodes { databaseId } } } }"""

    result = await execute(engine, query, manager)

    assert result.data["viewer"] == {
        "credential": "API_TOKEN",
        "scope": "RESELLER_TREE",
        "reseller": {"databaseId": tree.own},
        "scopePartners": {
            "totalCount": 3,
            "nodes": [{"databaseId": p} for p in sorted((tree.own, tree.child, tree.grandchild))],
        },
    }


async def test_a_caller_without_a_read_permission_reaches_no_row_through_viewer(
    engine: Any,
) -> None:
    graph = await sibling_partners(Factory(engine))
    payer = partner_user(graph.tenant_id, graph.mine_user, graph.mine, "pay-partners-payments")
    query = """{ viewer { scope tenant { id } user { id partner { id } }
      partner { id merchants { totalCount } payments { total } }
      scopePartners { totalCount nodes { id } } } }"""

    result = await execute(engine, query, payer)

    assert result.errors is None
    assert result.data["viewer"] == {
        "scope": "PARTNER",
        "tenant": {"id": str(graph.tenant_id)},
        "user": None,
        "partner": None,
        "scopePartners": {"totalCount": 0, "nodes": []},
    }


async def test_managers_of_other_resellers_are_invisible_to_scoped_callers(engine: Any) -> None:
    tree = await build_tree(Factory(engine))
    _, own_manager = await manager_of(engine, tree.tenant_id, tree.own)
    _, sibling_manager = await manager_of(engine, tree.tenant_id, tree.sibling)
    _, child_manager = await manager_of(engine, tree.tenant_id, tree.child)
    admin = await Factory(engine).user(tree.tenant_id)
    lookup = "query($id: ID!) { node(id: $id) { ... on User { databaseId role } } }"

    async def sees(caller: Principal, user_id: int | None) -> bool:
        result = await execute(engine, lookup, caller, id=encode("User", user_id or 0))
        return result.errors is None

    assert await sees(own_manager, own_manager.user_id)
    assert await sees(own_manager, child_manager.user_id)  # below it in the tree
    assert await sees(own_manager, admin)  # admins review and authorize
    assert not await sees(own_manager, sibling_manager.user_id)
    grandchild_user = partner_user(tree.tenant_id, 0, tree.grandchild)
    assert not await sees(grandchild_user, own_manager.user_id)


async def test_a_token_whose_user_is_no_longer_a_manager_names_no_one(engine: Any) -> None:
    tree = await build_tree(Factory(engine))
    token, manager = await manager_of(engine, tree.tenant_id, tree.own)
    users = m.User.__table__
    async with engine.begin() as connection:
        await connection.execute(
            update(users).where(users.c.id == manager.user_id).values(role="admin")
        )

    assert await manager_principal(read_engine(engine), token) is None
