"""The dashboard's nested query reads every relation through loaders: its statement
count does not grow with the number of payments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.permissions import ALL_PERMISSIONS
from domain.principal import Credential, Principal
from tests.factories import DashboardGraph, Factory, dashboard_graph
from tests.graphql import admin, count_statements, execute

DASHBOARD = """
query Dashboard($first: Int!) {
  payments(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id databaseId kind status currency
      amount { amount currency precision currencyNumeric formatted }
      details(first: 5) { totalCount nodes { id carrier amount { amount } partner { id } } }
      documents(first: 5) { nodes { id documentType status reviewedBy { id } } }
      invoice {
        id number total { formatted }
        payments(first: 3) { totalCount nodes { id } }
        sender { id }
      }
      sender { id name paymentsSent(first: 2) { nodes { id } } }
      receiver { id paymentsReceived(first: 2) { nodes { id } } }
      partner {
        id name parent { id name }
        children(first: 5) { nodes { id } }
        merchants(first: 5) { nodes { id } }
        payments(pageSize: 2) { total data { id } }
      }
      merchant { id terminals(first: 5) { nodes { id merchant { id } } } }
      terminal { id serial }
      paymentMethod { id name methodType }
      authorizedBy { id name company { id } }
      accountingTransactions(first: 5) { nodes { id direction amount { amount } } }
      events(first: 5) { nodes { id action actor { id } } }
    } }
  }
}
"""

# Relation fields selected above (each may cost one statement), plus the page and its count.
RELATIONS_IN_QUERY = 28
ROOT_STATEMENTS = 2


def partner_user(graph: DashboardGraph) -> Principal:
    return Principal(
        graph.tenant_id, graph.admin_id, Credential.JWT, ALL_PERMISSIONS, graph.partner_id
    )


async def run_dashboard(
    engine: Any, payments: int, caller: Callable[[DashboardGraph], Principal] | None = None
) -> tuple[Any, int]:
    graph = await dashboard_graph(Factory(engine), payments)
    principal = caller(graph) if caller else admin(graph.tenant_id)
    with count_statements(engine) as counter:
        result = await execute(engine, DASHBOARD, principal, first=payments)
    assert result.errors is None, result.errors
    return result.data, len(counter)


async def test_dashboard_query_links_every_type(engine: Any) -> None:
    data, _ = await run_dashboard(engine, payments=3)

    connection = data["payments"]
    assert connection["totalCount"] == 3
    node = connection["edges"][0]["node"]
    assert node["amount"] == {
        "amount": "10000",
        "currency": "USD",
        "precision": 2,
        "currencyNumeric": 840,
        "formatted": "100.00 USD",
    }
    assert node["details"]["totalCount"] == 2
    assert len(node["documents"]["nodes"]) == 2
    assert node["invoice"]["payments"]["totalCount"] == 3
    assert node["invoice"]["sender"]["id"] == node["receiver"]["id"]
    assert len(node["sender"]["paymentsSent"]["nodes"]) == 2
    assert node["partner"]["parent"] is not None
    assert len(node["partner"]["children"]["nodes"]) == 1
    assert node["merchant"]["terminals"]["nodes"][0]["merchant"]["id"] == node["merchant"]["id"]
    assert node["terminal"]["serial"]
    assert node["paymentMethod"]["methodType"] == "CHECK"
    assert node["authorizedBy"]["name"]
    assert [line["direction"] for line in node["accountingTransactions"]["nodes"]] == [
        "DEBIT",
        "CREDIT",
    ]
    assert node["events"]["nodes"][0]["actor"]["id"] == node["authorizedBy"]["id"]


async def test_statement_count_is_independent_of_page_size(engine: Any) -> None:
    _, for_10 = await run_dashboard(engine, payments=10)
    _, for_100 = await run_dashboard(engine, payments=100)

    print(f"dashboard statements: N=10 -> {for_10}, N=100 -> {for_100}")
    assert for_10 == for_100
    assert for_100 <= RELATIONS_IN_QUERY + ROOT_STATEMENTS


async def test_a_partner_users_statement_count_is_independent_of_page_size(engine: Any) -> None:
    # The scope adds WHERE clauses (subqueries), never statements.
    data, for_10 = await run_dashboard(engine, payments=10, caller=partner_user)
    _, for_100 = await run_dashboard(engine, payments=100, caller=partner_user)

    print(f"partner-user dashboard statements: N=10 -> {for_10}, N=100 -> {for_100}")
    assert data["payments"]["totalCount"] == 10
    assert for_10 == for_100
    assert for_100 <= RELATIONS_IN_QUERY + ROOT_STATEMENTS


# The same page through filters, sorts and the documents' own shapes: a filter or a sort
# changes the WHERE and ORDER BY of a statement, never the number of statements.
FILTERED_DASHBOARD = """
query Filtered($first: Int!) {
  payments(
    first: $first
    filter: {
      amount: { gte: "0" }
      not: { status: { eq: DELETED } }
      or: [{ partner: { name: { contains: "" } } }, { invoice: { number: { isNull: false } } }]
      address: { city: { isNull: false } }
    }
    sort: [{ field: AMOUNT, direction: DESC }, { field: CREATED_AT }]
  ) {
    totalCount
    meta { totalPages }
    edges { cursor node {
      id
      details(start: 0, length: 5, sortBy: "amount", sortType: "desc",
               filter: { carrier: { contains: "" } }) {
        totalCount nodes { id carrier partner { id } }
      }
      documents(first: 5, sort: [{ field: STATUS }], filter: { required: { eq: true } }) {
        nodes { id reviewedBy { id } }
      }
      invoice {
        id
        payments(last: 3, sort: [{ field: CREATED_AT, direction: DESC }]) {
          totalCount nodes { id }
        }
      }
      sender { id paymentsSent(first: 2, filter: { amount: { gte: "1" } }) { nodes { id } } }
      partner {
        id
        children(first: 5, filter: { name: { contains: "" } }) { nodes { id } }
        merchants(first: 5, sort: [{ field: NAME }]) { nodes { id } }
        payments(pageSize: 2, sortBy: AMOUNT) { total data { id } }
      }
      merchant { id terminals(first: 5, sort: [{ field: SERIAL, direction: DESC }]) {
        nodes { id } } }
    } }
  }
}
"""


async def run_filtered(engine: Any, payments: int) -> tuple[Any, int]:
    graph = await dashboard_graph(Factory(engine), payments)
    with count_statements(engine) as counter:
        result = await execute(engine, FILTERED_DASHBOARD, admin(graph.tenant_id), first=payments)
    assert result.errors is None, result.errors
    return result.data, len(counter)


async def test_filtered_and_sorted_lists_keep_the_statement_count_independent_of_page_size(
    engine: Any,
) -> None:
    data, for_10 = await run_filtered(engine, payments=10)
    _, for_100 = await run_filtered(engine, payments=100)

    print(f"filtered dashboard statements: N=10 -> {for_10}, N=100 -> {for_100}")
    assert data["payments"]["totalCount"] == 10
    node = data["payments"]["edges"][0]["node"]
    assert node["details"]["totalCount"] == 2
    assert node["invoice"]["payments"]["totalCount"] == 10
    assert for_10 == for_100
    # At most one statement per relation (15, counting details' partner) and per count
    # selected (4, the root's `totalCount` and `meta` sharing one): filters, sorts and
    # offsets add none.
    assert for_100 <= 15 + 4
