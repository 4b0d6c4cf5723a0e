"""The read graph on a real database: global IDs, node lookups, paging, tenancy and the
error codes of bad arguments."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import Factory, dashboard_graph
from tests.graphql import admin, execute, global_id

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def test_node_resolves_every_type_from_its_global_id(engine: Any) -> None:
    graph = await dashboard_graph(Factory(engine), payments=1)
    query = """
    query($id: ID!) { payment(id: $id) {
      id details(first: 1) { nodes { id } } documents(first: 1) { nodes { id } }
      accountingTransactions(first: 1) { nodes { id } } events(first: 1) { nodes { id } }
      invoice { id } sender { id } partner { id } merchant { id } terminal { id }
      company { id } paymentMethod { id } authorizedBy { id }
    } }"""
    result = await execute(
        engine, query, admin(graph.tenant_id), id=global_id("Payment", graph.payment_ids[0])
    )
    assert result.errors is None
    payment = result.data["payment"]
    ids = [payment["id"]] + [
        value["nodes"][0]["id"] if "nodes" in value else value["id"]
        for key, value in payment.items()
        if key != "id"
    ]
    seen = set()
    for node_id in ids:
        answer = await execute(engine, NODE, admin(graph.tenant_id), id=node_id)
        assert answer.errors is None
        assert answer.data["node"]["id"] == node_id
        seen.add(answer.data["node"]["__typename"])
    assert seen == {
        "Payment",
        "PaymentDetail",
        "PaymentDocument",
        "AccountingTransaction",
        "PaymentEvent",
        "Invoice",
        "Address",
        "Partner",
        "Merchant",
        "Terminal",
        "Company",
        "PaymentMethod",
        "User",
    }


async def test_root_lookup_accepts_the_numeric_database_id(engine: Any) -> None:
    graph = await dashboard_graph(Factory(engine), payments=1)
    query = "query($id: ID!) { invoice(id: $id) { databaseId payments { totalCount } } }"
    result = await execute(engine, query, admin(graph.tenant_id), id=str(graph.invoice_id))
    assert result.data["invoice"] == {"databaseId": graph.invoice_id, "payments": {"totalCount": 1}}


async def test_another_tenants_object_answers_exactly_like_a_missing_one(engine: Any) -> None:
    mine = await dashboard_graph(Factory(engine), payments=1)
    theirs = await dashboard_graph(Factory(engine), payments=1)
    as_me = admin(mine.tenant_id)

    foreign = await execute(engine, NODE, as_me, id=global_id("Payment", theirs.payment_ids[0]))
    missing = await execute(engine, NODE, as_me, id=global_id("Payment", 999_999_999))

    assert foreign.data == missing.data == {"node": None}
    assert [e.extensions["code"] for e in foreign.errors] == ["NOT_FOUND"]
    assert foreign.errors[0].message.replace(
        global_id("Payment", theirs.payment_ids[0]), "X"
    ) == missing.errors[0].message.replace(global_id("Payment", 999_999_999), "X")


async def test_lists_and_counts_only_cover_the_callers_tenant(engine: Any) -> None:
    mine = await dashboard_graph(Factory(engine), payments=3)
    await dashboard_graph(Factory(engine), payments=4)
    query = """{ payments(first: 200) { totalCount nodes { databaseId } }
                 invoices { totalCount } addresses { totalCount } partners { totalCount } }"""
    result = await execute(engine, query, admin(mine.tenant_id))
    assert result.data["payments"]["totalCount"] == 3
    assert sorted(p["databaseId"] for p in result.data["payments"]["nodes"]) == mine.payment_ids
    assert result.data["invoices"]["totalCount"] == 1
    assert result.data["addresses"]["totalCount"] == 2
    assert result.data["partners"]["totalCount"] == 3


async def test_walking_pages_returns_every_payment_once(engine: Any) -> None:
    graph = await dashboard_graph(Factory(engine), payments=7)
    query = """query($after: String) { payments(first: 3, after: $after) {
        nodes { databaseId } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    seen: list[int] = []
    after = None
    while True:
        result = await execute(engine, query, admin(graph.tenant_id), after=after)
        page = result.data["payments"]
        seen += [p["databaseId"] for p in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == graph.payment_ids


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ("first: 201", "PAGE_SIZE_TOO_LARGE"),
        ("first: -1", "BAD_USER_INPUT"),
        ('after: "not-a-cursor"', "BAD_USER_INPUT"),
    ],
)
async def test_bad_paging_arguments_have_stable_codes(
    engine: Any, arguments: str, code: str
) -> None:
    tenant = await Factory(engine).tenant()
    result = await execute(engine, f"{{ payments({arguments}) {{ totalCount }} }}", admin(tenant))
    assert result.data is None or result.data["payments"] is None
    assert [error.extensions["code"] for error in result.errors] == [code]


async def test_unexpected_errors_are_masked_with_the_request_id(engine: Any) -> None:
    # A tenant id that overflows the database's integer makes the loader itself fail.
    result = await execute(engine, "{ viewer { tenant { name } } }", admin(2**70))
    [error] = result.errors
    assert error.message == "Internal server error."
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "test-request"}
