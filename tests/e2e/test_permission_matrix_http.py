"""The permission matrix over real HTTP, cell by cell, for every root operation the schema
has: each permission of an operation's row alone is enough, every other permission
combined is refused with FORBIDDEN and nothing is returned, and the viewer is open to a
token without permissions. Then the read scope: `view-partner-payments` sees commission
payments only, `view-payments` sees every kind.

Every root field needs a sample operation below; a field added to the schema without
one fails `test_every_root_operation_has_a_sample`. A mutation's sample makes fresh rows
for each cell (an allowed cell changes them), is sent by the caller the workflow expects
(a partner's own user for requestPartnerPayment and addPaymentDocument, a tenant-wide
admin otherwise: the commission workflow, document 002's completions and document 003's
invoice payments all take one) and, for an upload, as a GraphQL multipart request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest

from db import models as m
from domain.permissions import (
    ALL_PERMISSIONS,
    OPERATIONS,
    VIEW_PARTNER_PAYMENTS,
    VIEW_PAYMENTS,
)
from gateway.auth import mint_token
from gateway.settings import Settings
from schema.app_schema import schema
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.factories import Factory, dashboard_graph, unique

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
PDF = b"%PDF-1.4\n% a commission invoice\n%%EOF\n"


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
    # A partner of kind RESELLER, for reseller(id).
    reseller_id: int = 0
    # The mutations' samples change rows, so they make them in a tenant of their own: its
    # admin, a partner with a payout account and its own user (the commission workflow),
    # and a reseller whose customers' payments are completed (document 002).
    payouts_tenant_id: int = 0
    payouts_admin_id: int = 0
    payee_partner_id: int = 0
    partner_user_id: int = 0
    payouts_reseller_id: int = 0


Variables = Callable[[World], dict[str, Any]]
Setup = Callable[[World, Factory], Awaitable[dict[str, Any]]]


Caller = Literal["admin", "payouts_admin", "partner_user"]


@dataclass(frozen=True)
class Sample:
    """A sample that changes state: `setup` makes the rows for one cell and returns its
    variables; `caller` says whose token sends it (the world's admin, or the payouts
    tenant's admin or partner user); `upload` sends it as a GraphQL multipart request
    with a PDF as `$file`; `expected`, when given, is the field's whole answer in an
    allowed cell (what the operation did, not only that it answered)."""

    document: str
    setup: Setup
    caller: Caller = "admin"
    upload: bool = False
    expected: dict[str, Any] | None = None


def _no_variables(_: World) -> dict[str, Any]:
    return {}


# operation -> (document, its variables) or a Sample; the response key is the field's name.
SAMPLES: dict[str, tuple[str, Variables] | Sample] = {
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
    "Query.reseller": (
        """query($id: ID!) {
          reseller(id: $id) {
            databaseId
            accounts(first: 5) { totalCount }
            payments(first: 5) { totalCount }
          }
        }""",
        lambda w: {"id": str(w.reseller_id)},
    ),
    "Query.accountingTransactions": (
        "{ accountingTransactions(first: 5) { totalCount nodes { id accountCode } } }",
        _no_variables,
    ),
}


async def commission_payment(
    world: World, factory: Factory, status: str, document_status: str | None = "pending"
) -> tuple[str, str]:
    """A fresh commission payment of the payee partner in `status`, past its cutoff, with
    one uploaded invoice in `document_status` (none when None): (payment id, document id)."""
    payment = await factory.payment(
        world.payouts_tenant_id,
        kind="commission",
        status=status,
        partner_id=world.payee_partner_id,
        user_id=world.partner_user_id,
        cutoff_date=date(2025, 1, 31),
    )
    if document_status is None:
        return str(payment), ""
    document = await factory.insert(
        m.PaymentDocument,
        tenant_id=world.payouts_tenant_id,
        payment_id=payment,
        document_type="invoice",
        status=document_status,
        file_name="invoice.pdf",
        content_type="application/pdf",
        size_bytes=len(PDF),
        sha256="0" * 64,
        storage_key=f"{world.payouts_tenant_id}/00/{'0' * 64}",
    )
    return str(payment), str(document)


async def _generated_with_invoice(world: World, factory: Factory) -> dict[str, Any]:
    payment, _ = await commission_payment(world, factory, "generated")
    return {"id": payment}


async def _generated(world: World, factory: Factory) -> dict[str, Any]:
    payment, _ = await commission_payment(world, factory, "generated", None)
    return {"payment": payment}


async def _document_to_review(world: World, factory: Factory) -> dict[str, Any]:
    payment, document = await commission_payment(world, factory, "payment_requested")
    return {"payment": payment, "document": document}


async def _requested(world: World, factory: Factory) -> dict[str, Any]:
    payment, _ = await commission_payment(world, factory, "payment_requested")
    return {"id": payment}


async def _approved(world: World, factory: Factory) -> dict[str, Any]:
    payment, _ = await commission_payment(world, factory, "approved_for_payment", "approved")
    return {"id": payment}


async def _approved_with_key(world: World, factory: Factory) -> dict[str, Any]:
    return {**await _approved(world, factory), "key": str(uuid.uuid4())}


async def reseller_payment(world: World, factory: Factory) -> dict[str, Any]:
    """A fresh reseller customer's payment of the payouts tenant's reseller, waiting for
    payment under a number of its own, a fresh payment method to complete it with, and a
    fresh idempotency key."""
    tenant = world.payouts_tenant_id
    number = unique("DOC-")
    payment = await factory.payment(
        tenant,
        kind="reseller",
        status="waiting_for_payment",
        partner_id=world.payouts_reseller_id,
        document_number=number,
        amount=12_345,
        expiration_date=datetime.now(UTC) + timedelta(days=30),
    )
    method = await factory.insert(
        m.PaymentMethod, tenant_id=tenant, name=unique("Wire "), method_type="bank_transfer"
    )
    return {
        "reseller": str(world.payouts_reseller_id),
        "document": number,
        "id": str(payment),
        "method": str(method),
        "key": str(uuid.uuid4()),
    }


async def _reseller_payment_by_number(world: World, factory: Factory) -> dict[str, Any]:
    found = await reseller_payment(world, factory)
    return {name: found[name] for name in ("reseller", "document", "method", "key")}


async def _reseller_payment_by_id(world: World, factory: Factory) -> dict[str, Any]:
    found = await reseller_payment(world, factory)
    return {name: found[name] for name in ("id", "method", "key")}


INVOICE_TOTAL = 1_000_000
RECORDED_AMOUNT = 10_000


async def open_invoice(world: World, factory: Factory, paid: int = 0) -> int:
    """A fresh USD invoice of the payouts tenant with room for payments, `paid` of its
    total already paid (its status follows, as the invoice payments keep it)."""
    return await factory.insert(
        m.Invoice,
        tenant_id=world.payouts_tenant_id,
        number=unique("INV-"),
        total_amount=INVOICE_TOTAL,
        paid_amount=paid,
        currency="USD",
        status="partially_paid" if paid else "open",
        issued_on=date(2025, 3, 1),
    )


async def _invoice_with_key(world: World, factory: Factory) -> dict[str, Any]:
    return {"invoice": str(await open_invoice(world, factory)), "key": str(uuid.uuid4())}


async def _recorded_invoice_payment(world: World, factory: Factory) -> dict[str, Any]:
    """A fresh live invoice payment, recorded through the database against a fresh
    invoice whose paid amount is that payment's."""
    invoice = await open_invoice(world, factory, paid=RECORDED_AMOUNT)
    payment = await factory.payment(
        world.payouts_tenant_id,
        kind="invoice",
        status="recorded",
        amount=RECORDED_AMOUNT,
        invoice_id=invoice,
        payment_date=date(2025, 3, 1),
    )
    return {"id": str(payment)}


# What the document 002 and 003 mutations answer when they are allowed: the payment as it
# now is. (Its invoice is not among it: a caller with none of the read permissions reads
# no row, and the allowed cells hold the operation's permission alone.)
COMPLETED = {"payment": {"status": "COMPLETED", "paidAmount": {"amount": "12345"}}}
RECORDED = """
fragment Recorded on Payment { status authorized amount { amount } }"""


def recorded(amount: int, *, status: str = "RECORDED", authorized: bool = False) -> dict[str, Any]:
    return {
        "payment": {"status": status, "authorized": authorized, "amount": {"amount": str(amount)}}
    }


SAMPLES.update(
    {
        "Mutation.requestPartnerPayment": Sample(
            "mutation($id: ID!) { requestPartnerPayment(id: $id) { payment { status } } }",
            _generated_with_invoice,
            caller="partner_user",
        ),
        "Mutation.addPaymentDocument": Sample(
            """mutation($payment: ID!, $file: Upload!) {
              addPaymentDocument(paymentId: $payment, documentType: "invoice", file: $file) {
                document { sha256 }
              }
            }""",
            _generated,
            caller="partner_user",
            upload=True,
        ),
        "Mutation.approvePaymentDocument": Sample(
            """mutation($payment: ID!, $document: ID!) {
              approvePaymentDocument(paymentId: $payment, documentId: $document) {
                payment { status }
              }
            }""",
            _document_to_review,
            caller="payouts_admin",
        ),
        "Mutation.rejectPaymentDocument": Sample(
            """mutation($payment: ID!, $document: ID!) {
              rejectPaymentDocument(
                paymentId: $payment, documentId: $document, rejectionReason: "Unreadable"
              ) { payment { status } }
            }""",
            _document_to_review,
            caller="payouts_admin",
        ),
        "Mutation.sendPaymentToInternalReview": Sample(
            """mutation($id: ID!) {
              sendPaymentToInternalReview(id: $id, comments: "Check the amount") {
                payment { status }
              }
            }""",
            _requested,
            caller="payouts_admin",
        ),
        "Mutation.payPartnerPayment": Sample(
            """mutation($id: ID!, $key: String!) {
              payPartnerPayment(id: $id, idempotencyKey: $key) { payment { status } }
            }""",
            _approved_with_key,
            caller="payouts_admin",
        ),
        "Mutation.rejectPartnerPayment": Sample(
            """mutation($id: ID!) {
              rejectPartnerPayment(id: $id, comments: "Holder mismatch") { payment { status } }
            }""",
            _approved,
            caller="payouts_admin",
        ),
        "Mutation.markPartnerPaymentAsPaid": Sample(
            """mutation($id: ID!, $key: String!) {
              markPartnerPaymentAsPaid(
                id: $id, paidAt: "2025-03-01T12:00:00Z", idempotencyKey: $key
              ) { payment { status } }
            }""",
            _approved_with_key,
            caller="payouts_admin",
        ),
        "Mutation.completePayment": Sample(
            """mutation($reseller: ID!, $document: String!, $method: ID!, $key: String!) {
              completePayment(
                resellerId: $reseller, documentId: $document, paymentMethodId: $method,
                idempotencyKey: $key, total: 12345, currencyCode: "USD"
              ) { payment { status paidAmount { amount } } }
            }""",
            _reseller_payment_by_number,
            caller="payouts_admin",
            expected=COMPLETED,
        ),
        "Mutation.completePaymentById": Sample(
            """mutation($id: ID!, $method: ID!, $key: String!) {
              completePaymentById(id: $id, paymentMethodId: $method, idempotencyKey: $key) {
                payment { status paidAmount { amount } }
              }
            }""",
            _reseller_payment_by_id,
            caller="payouts_admin",
            expected=COMPLETED,
        ),
        "Mutation.createPayment": Sample(
            """mutation($invoice: ID!, $key: String!) {
              createPayment(input: {invoiceId: $invoice, amount: 10000}, idempotencyKey: $key) {
                payment { ...Recorded }
              }
            }"""
            + RECORDED,
            _invoice_with_key,
            caller="payouts_admin",
            expected=recorded(10_000),
        ),
        "Mutation.createInvoicePayment": Sample(
            """mutation($invoice: ID!, $key: String!) {
              createInvoicePayment(
                invoiceId: $invoice, input: {amount: 10000}, idempotencyKey: $key
              ) { payment { ...Recorded } }
            }"""
            + RECORDED,
            _invoice_with_key,
            caller="payouts_admin",
            expected=recorded(10_000),
        ),
        "Mutation.updatePayment": Sample(
            """mutation($id: ID!) {
              updatePayment(id: $id, input: {amount: 15000}) { payment { ...Recorded } }
            }"""
            + RECORDED,
            _recorded_invoice_payment,
            caller="payouts_admin",
            expected=recorded(15_000),
        ),
        "Mutation.deletePayment": Sample(
            "mutation($id: ID!) { deletePayment(id: $id) { payment { ...Recorded } } }" + RECORDED,
            _recorded_invoice_payment,
            caller="payouts_admin",
            expected=recorded(RECORDED_AMOUNT, status="DELETED"),
        ),
        "Mutation.authorizePayment": Sample(
            "mutation($id: ID!) { authorizePayment(id: $id) { payment { ...Recorded } } }"
            + RECORDED,
            _recorded_invoice_payment,
            caller="payouts_admin",
            expected=recorded(RECORDED_AMOUNT, authorized=True),
        ),
    }
)


def sample_of(operation: str) -> Sample:
    """The operation's sample; a read's variables depend on the world alone."""
    sample = SAMPLES[operation]
    if isinstance(sample, Sample):
        return sample
    document, variables = sample

    async def setup(world: World, _: Factory) -> dict[str, Any]:
        return variables(world)

    return Sample(document, setup)


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


def token(world: World, *permissions: str, caller: Caller = "admin") -> str:
    if caller == "partner_user":
        return mint_token(
            SETTINGS,
            tenant_id=world.payouts_tenant_id,
            user_id=world.partner_user_id,
            permissions=permissions,
            partner_id=world.payee_partner_id,
        )
    if caller == "payouts_admin":
        return mint_token(
            SETTINGS,
            tenant_id=world.payouts_tenant_id,
            user_id=world.payouts_admin_id,
            permissions=permissions,
        )
    return mint_token(
        SETTINGS, tenant_id=world.tenant_id, user_id=world.admin_id, permissions=permissions
    )


async def post(
    server: RunningServer,
    bearer: str,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    upload: bool = False,
) -> dict[str, Any]:
    """POST one operation as JSON or, with `upload`, as a GraphQL multipart request
    (operations, map, then the file) whose `$file` is a PDF."""
    headers = {"Authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        if upload:
            operations = {"query": document, "variables": {**(variables or {}), "file": None}}
            response = await client.post(
                server.graphql_url,
                data={
                    "operations": json.dumps(operations),
                    "map": json.dumps({"0": ["variables.file"]}),
                },
                files={"0": ("invoice.pdf", PDF, "application/pdf")},
                headers=headers,
            )
        else:
            response = await client.post(
                server.graphql_url,
                json={"query": document, "variables": variables or {}},
                headers=headers,
            )
    # An upload its caller may not send is refused at the edge (403), before its body is read.
    assert response.status_code == 200 or (upload and response.status_code == 403), response.text
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
    reseller = await factory.partner(graph.tenant_id, kind="reseller")
    payouts = await factory.tenant()
    payouts_admin = await factory.user(payouts)
    payee = await factory.partner(payouts, kind="isv", payout_account=unique("po_"))
    partner_user = await factory.user(payouts, role="partner", partner_id=payee)
    payouts_reseller = await factory.partner(payouts, kind="reseller")
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
        reseller_id=reseller,
        payouts_tenant_id=payouts,
        payouts_admin_id=payouts_admin,
        payee_partner_id=payee,
        partner_user_id=partner_user,
        payouts_reseller_id=payouts_reseller,
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
    engine: Any,
    operation: str,
    permissions: tuple[str, ...],
    allowed: bool,
) -> None:
    assert operation in SAMPLES, f"{operation} needs a sample operation in SAMPLES"
    sample = sample_of(operation)
    field = operation.partition(".")[2]
    variables = await sample.setup(world, Factory(engine))
    bearer = token(world, *permissions, caller=sample.caller)

    body = await post(server, bearer, sample.document, variables, upload=sample.upload)

    if allowed:
        assert "errors" not in body, body
        assert body["data"][field] is not None
        if sample.expected is not None:
            assert body["data"][field] == sample.expected
    else:
        assert codes(body) == ["FORBIDDEN"], body
        error = body["errors"][0]
        if sample.upload:  # refused at the edge: the operation was never read
            assert "path" not in error and body["data"] is None, body
            return
        assert error["path"] == [field]
        assert field in error["message"]
        assert body["data"] is None or body["data"][field] is None


async def test_the_viewer_without_permissions_reads_no_payment_kind(
    server: RunningServer, world: World
) -> None:
    body = await post(server, token(world), "{ viewer { credential permissions paymentKinds } }")
    assert "errors" not in body
    assert body["data"] == {"viewer": {"credential": "JWT", "permissions": [], "paymentKinds": []}}


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
        assert "errors" not in found
        assert found["data"] == {"node": {"id": global_id, "kind": kind}}
