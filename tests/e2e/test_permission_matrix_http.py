"""The permission matrix over real HTTP, cell by cell, for every root operation the schema
has: each permission of an operation's row alone is enough, every other permission
combined is refused with FORBIDDEN and nothing is returned, and the viewer is open to a
token without permissions. Then the read scope: `view-partner-payments` sees commission
payments only, `view-payments` sees every kind.

Every root field needs a sample operation below; a field added to the schema without
one fails `test_every_root_operation_has_a_sample`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from domain.permissions import (
    ALL_PERMISSIONS,
    OPERATIONS,
    VIEW_PARTNER_PAYMENTS,
    VIEW_PAYMENTS,
)
from gateway.auth import mint_token
from gateway.settings import Settings
from schema.app_schema import schema
from tests.e2e.server import TEST_JWT_SECRET, RunningServer, running_server
from tests.factories import Factory, dashboard_graph

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)


@dataclass
class World:
    """One dashboard graph (invoice payments) plus one commission payment that reaches
    the same invoice, addresses and partner, so every sample finds something for either
    read permission."""

    tenant_id: int
    admin_id: int
    partner_id: int
    invoice_id: int
    address_id: int
    invoice_payment_ids: list[int]
    commission_payment_id: int
    commission_global_id: str
    invoice_payment_global_id: str


Variables = Callable[[World], dict[str, Any]]


def _no_variables(_: World) -> dict[str, Any]:
    return {}


# operation -> (document, its variables); the response key is the field's name.
SAMPLES: dict[str, tuple[str, Variables]] = {
    "Query.viewer": ("{ viewer { credential permissions paymentKinds } }", _no_variables),
    "Query.node": (
        "query($id: ID!) { node(id: $id) { id } }",
        lambda w: {"id": w.commission_global_id},
    ),
    "Query.payment": (
        "query($id: ID!) { payment(id: $id) { databaseId kind } }",
        lambda w: {"id": str(w.commission_payment_id)},
    ),
    "Query.payments": ("{ payments(first: 5) { totalCount nodes { id } } }", _no_variables),
    "Query.invoice": (
        "query($id: ID!) { invoice(id: $id) { databaseId } }",
        lambda w: {"id": str(w.invoice_id)},
    ),
    "Query.invoices": ("{ invoices(first: 5) { totalCount nodes { id } } }", _no_variables),
    "Query.address": (
        "query($id: ID!) { address(id: $id) { databaseId } }",
        lambda w: {"id": str(w.address_id)},
    ),
    "Query.addresses": ("{ addresses(first: 5) { totalCount nodes { id } } }", _no_variables),
    "Query.partner": (
        "query($id: ID!) { partner(id: $id) { databaseId } }",
        lambda w: {"id": str(w.partner_id)},
    ),
    "Query.partners": ("{ partners(first: 5) { totalCount nodes { id } } }", _no_variables),
    "Query.partnerPayments": (
        "{ partnerPayments(length: 5) { total data { id kind } } }",
        _no_variables,
    ),
}


def root_operations() -> list[str]:
    graphql_schema = schema._schema
    roots = (graphql_schema.query_type, graphql_schema.mutation_type)
    return [f"{root.name}.{name}" for root in roots if root is not None for name in root.fields]


ROOT_OPERATIONS = root_operations()


def _cases() -> list[Any]:
    """(operation, permissions, allowed) for every cell of every root operation."""
    cases = []
    for operation in ROOT_OPERATIONS:
        any_of = OPERATIONS[operation].any_of if operation in OPERATIONS else frozenset()
        for permission in sorted(any_of):
            cases.append(
                pytest.param(operation, (permission,), True, id=f"{operation}-only-{permission}")
            )
        if any_of:
            others = tuple(sorted(ALL_PERMISSIONS - any_of))
            cases.append(pytest.param(operation, others, False, id=f"{operation}-all-others"))
        else:
            cases.append(pytest.param(operation, (), True, id=f"{operation}-no-permissions"))
            everything = tuple(sorted(ALL_PERMISSIONS))
            cases.append(pytest.param(operation, everything, True, id=f"{operation}-all"))
    return cases


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


def token(world: World, *permissions: str) -> str:
    return mint_token(
        SETTINGS, tenant_id=world.tenant_id, user_id=world.admin_id, permissions=permissions
    )


async def post(
    server: RunningServer, bearer: str, document: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            server.graphql_url,
            json={"query": document, "variables": variables or {}},
            headers={"Authorization": f"Bearer {bearer}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


@pytest.fixture(scope="module")
async def world(server: RunningServer, engine: Any) -> World:
    factory = Factory(engine)
    graph = await dashboard_graph(factory, payments=3)
    commission = await factory.payment(
        graph.tenant_id,
        kind="commission",
        status="generated",
        partner_id=graph.partner_id,
        invoice_id=graph.invoice_id,
        sender_id=graph.sender_id,
        receiver_id=graph.receiver_id,
    )
    world = World(
        tenant_id=graph.tenant_id,
        admin_id=graph.admin_id,
        partner_id=graph.partner_id,
        invoice_id=graph.invoice_id,
        address_id=graph.sender_id,
        invoice_payment_ids=graph.payment_ids,
        commission_payment_id=commission,
        commission_global_id="",
        invoice_payment_global_id="",
    )
    lookup = "query($a: ID!, $b: ID!) { a: payment(id: $a) { id } b: payment(id: $b) { id } }"
    found = await post(
        server,
        token(world, VIEW_PAYMENTS),
        lookup,
        {"a": str(commission), "b": str(graph.payment_ids[0])},
    )
    world.commission_global_id = found["data"]["a"]["id"]
    world.invoice_payment_global_id = found["data"]["b"]["id"]
    return world


def test_every_root_operation_has_a_sample() -> None:
    assert "Query.payments" in ROOT_OPERATIONS
    assert set(SAMPLES) == set(ROOT_OPERATIONS)


def test_every_root_operation_has_a_row_in_the_matrix() -> None:
    assert [operation for operation in ROOT_OPERATIONS if operation not in OPERATIONS] == []


@pytest.mark.parametrize(("operation", "permissions", "allowed"), _cases())
async def test_matrix_cell(
    server: RunningServer,
    world: World,
    operation: str,
    permissions: tuple[str, ...],
    allowed: bool,
) -> None:
    assert operation in SAMPLES, f"{operation} needs a sample operation in SAMPLES"
    document, variables = SAMPLES[operation]
    field = operation.partition(".")[2]

    body = await post(server, token(world, *permissions), document, variables(world))

    if allowed:
        assert "errors" not in body, body
        assert body["data"][field] is not None
    else:
        assert codes(body) == ["FORBIDDEN"], body
        error = body["errors"][0]
        assert error["path"] == [field]
        assert field in error["message"]
        assert body["data"] is None or body["data"][field] is None


async def test_the_viewer_without_permissions_reads_no_payment_kind(
    server: RunningServer, world: World
) -> None:
    body = await post(server, token(world), "{ viewer { credential permissions paymentKinds } }")
    assert body == {
        "data": {"viewer": {"credential": "JWT", "permissions": [], "paymentKinds": []}}
    }


PAYMENTS = "{ payments(first: 50) { totalCount nodes { databaseId kind } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Payment { kind } } }"
PAYMENT = "query($id: ID!) { payment(id: $id) { databaseId kind } }"
NESTED = """query($invoice: ID!, $address: ID!) {
  invoice(id: $invoice) { payments(first: 50) { totalCount nodes { kind } } }
  address(id: $address) { paymentsSent(first: 50) { totalCount nodes { kind } } }
}"""


def nested_variables(world: World) -> dict[str, Any]:
    return {
        "invoice": str(world.invoice_id),
        "address": str(world.address_id),
    }


async def test_view_partner_payments_reads_commission_payments_only(
    server: RunningServer, world: World
) -> None:
    reader = token(world, VIEW_PARTNER_PAYMENTS)

    listed = await post(server, reader, PAYMENTS)
    assert "errors" not in listed
    assert listed["data"]["payments"] == {
        "totalCount": 1,
        "nodes": [{"databaseId": world.commission_payment_id, "kind": "COMMISSION"}],
    }

    commission = await post(server, reader, NODE, {"id": world.commission_global_id})
    assert commission["data"]["node"] == {"id": world.commission_global_id, "kind": "COMMISSION"}

    hidden = await post(server, reader, NODE, {"id": world.invoice_payment_global_id})
    assert codes(hidden) == ["NOT_FOUND"]
    assert hidden["data"] == {"node": None}

    by_id = await post(server, reader, PAYMENT, {"id": str(world.invoice_payment_ids[0])})
    assert codes(by_id) == ["NOT_FOUND"]
    assert by_id["data"] == {"payment": None}

    nested = await post(server, reader, NESTED, nested_variables(world))
    assert "errors" not in nested
    assert nested["data"] == {
        "invoice": {"payments": {"totalCount": 1, "nodes": [{"kind": "COMMISSION"}]}},
        "address": {"paymentsSent": {"totalCount": 1, "nodes": [{"kind": "COMMISSION"}]}},
    }


async def test_view_payments_reads_every_kind(server: RunningServer, world: World) -> None:
    reader = token(world, VIEW_PAYMENTS)

    listed = await post(server, reader, PAYMENTS)
    assert "errors" not in listed
    page = listed["data"]["payments"]
    assert page["totalCount"] == len(world.invoice_payment_ids) + 1
    assert {node["databaseId"]: node["kind"] for node in page["nodes"]} == {
        **dict.fromkeys(world.invoice_payment_ids, "INVOICE"),
        world.commission_payment_id: "COMMISSION",
    }

    nested = await post(server, reader, NESTED, nested_variables(world))
    assert "errors" not in nested
    for parent, relation in [
        ("invoice", "payments"),
        ("address", "paymentsSent"),
    ]:
        kinds = [node["kind"] for node in nested["data"][parent][relation]["nodes"]]
        assert sorted(kinds) == ["COMMISSION"] + ["INVOICE"] * len(world.invoice_payment_ids)

    for global_id, kind in [
        (world.invoice_payment_global_id, "INVOICE"),
        (world.commission_global_id, "COMMISSION"),
    ]:
        found = await post(server, reader, NODE, {"id": global_id})
        assert found == {"data": {"node": {"id": global_id, "kind": kind}}}
