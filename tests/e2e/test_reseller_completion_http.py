"""Document 002 end to end over real HTTP: a reseller manager (X-Api-Token) or a tenant
admin completes a reseller customer's payment with `completePayment` (by document
number) or `completePaymentById`, against `paygraph serve` in a subprocess, driven with
the gql client. Every rule and error code of document 002 as PayGraph implements it:
the reseller tree, PAYMENT-001/002/003, the total, the 422 for a payment that is not
waiting or expired, who may call, idempotency, the requester's IP behind a trusted
proxy, the expiry job and `paygraph expire`, and (PostgreSQL) a race of completions.

Rows are inserted directly, each test in a tenant of its own; every change is made over
HTTP (or by the expiry job), and every refusal is checked to have changed nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.credentials import create_manager_token
from domain.permissions import (
    COMPLETE_PAYMENTS,
    MANAGE_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
    VIEW_PAYMENTS,
)
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import ROOT, TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.factories import Factory, unique

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
AMOUNT = 12_345  # 123.45 USD, in minor units as every amount in PayGraph
CURRENCY = "USD"
CONCURRENT = 20
EXPIRY_INTERVAL = "0.2"  # seconds, for the server whose expiry job runs
EXPIRY_DEADLINE = 10.0  # seconds to wait for that job to expire a due payment
NOT_COMPLETABLE = 'Only payments with "waiting for payment/expired" status can be completed'
DOCUMENT_NOT_FOUND = "Required parameter document_id is not found"
METHOD_NOT_FOUND = "Required parameter payment_method_id is not found"
CURRENCY_MISMATCH = "Transmitted currency_code does not match the payment currency_code"
MANAGER_PERMISSIONS = (VIEW_PAYMENTS, COMPLETE_PAYMENTS)
T = TypeVar("T")

# The race guarantee is PostgreSQL's (row locks); SQLite serializes every writer anyway.
ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


# --- servers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    """The server most tests use: no trusted proxies, and its expiry job off, so only
    the tests that mean to expire a payment do."""
    with running_server(database_url, env={"PAYGRAPH_EXPIRY_INTERVAL": "0"}) as running:
        yield running


@pytest.fixture(scope="module")
def proxied_server(database_url: str) -> Iterator[RunningServer]:
    """A server behind a reverse proxy on 127.0.0.1, whose X-Forwarded-For it believes."""
    env = {"PAYGRAPH_TRUSTED_PROXIES": "127.0.0.1", "PAYGRAPH_EXPIRY_INTERVAL": "0"}
    with running_server(database_url, env=env) as running:
        yield running


@pytest.fixture
def expiring_server(database_url: str) -> Iterator[RunningServer]:
    """A server whose expiry job runs every EXPIRY_INTERVAL seconds. Function-scoped: it
    expires every due payment of the database, so it stops when its test ends."""
    with running_server(database_url, env={"PAYGRAPH_EXPIRY_INTERVAL": EXPIRY_INTERVAL}) as running:
        yield running


# --- givens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pay:
    """A reseller payment as inserted: its id and document number (document_id)."""

    id: int
    number: str
    reseller_id: int
    account_id: int
    invoice_id: int


@dataclass
class World:
    """A tenant with a reseller tree root -> middle -> grandchild and a sibling of middle
    (under root), one customer account and invoice per reseller, a payment method, an
    admin, a partner user of middle, and a manager of middle with its X-Api-Token."""

    engine: AsyncEngine
    tenant_id: int
    root: int
    middle: int
    grandchild: int
    sibling: int
    method_id: int
    method_name: str
    admin_id: int
    partner_user_id: int
    manager_id: int
    manager_token: str
    accounts: dict[int, int] = field(default_factory=dict)
    invoices: dict[int, int] = field(default_factory=dict)

    @property
    def manager(self) -> dict[str, str]:
        return {"X-Api-Token": self.manager_token}

    def admin(self, *permissions: str) -> dict[str, str]:
        token = mint_token(
            SETTINGS, tenant_id=self.tenant_id, user_id=self.admin_id, permissions=permissions
        )
        return {"Authorization": f"Bearer {token}"}

    def partner_user(self, *permissions: str) -> dict[str, str]:
        token = mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=self.partner_user_id,
            permissions=permissions,
            partner_id=self.middle,
        )
        return {"Authorization": f"Bearer {token}"}

    async def another_manager(self, reseller_id: int, *permissions: str) -> dict[str, str]:
        token, _ = await manager_token(self.engine, self.tenant_id, reseller_id, permissions)
        return {"X-Api-Token": token}

    async def payment(
        self,
        reseller_id: int | None = None,
        *,
        status: str = "waiting_for_payment",
        amount: int = AMOUNT,
        currency: str = CURRENCY,
        expiration_date: datetime | None = None,
    ) -> Pay:
        reseller = reseller_id or self.middle
        number = unique("20")  # document 002's document_id: digits only
        payment_id = await Factory(self.engine).payment(
            self.tenant_id,
            kind="reseller",
            status=status,
            amount=amount,
            currency=currency,
            partner_id=reseller,
            account_id=self.accounts[reseller],
            invoice_id=self.invoices[reseller],
            document_number=number,
            expiration_date=expiration_date,
            comments="1",
        )
        return Pay(payment_id, number, reseller, self.accounts[reseller], self.invoices[reseller])


async def manager_token(
    engine: AsyncEngine, tenant_id: int, reseller_id: int, permissions: tuple[str, ...]
) -> tuple[str, int]:
    """A manager user over `reseller_id` and its token (as `paygraph manager create`
    makes them); returns the token and the manager's user id."""
    email = f"{unique('manager')}@reseller.example.test"
    async with engine.begin() as connection:
        token = await create_manager_token(
            connection,
            tenant_id=tenant_id,
            reseller_id=reseller_id,
            email=email,
            name=f"Manager {email}",
            permissions=permissions,
        )
        user_id = (
            await connection.execute(
                select(m.User.id).where(m.User.tenant_id == tenant_id, m.User.email == email)
            )
        ).scalar_one()
    return token, int(user_id)


async def new_world(engine: AsyncEngine) -> World:
    f = Factory(engine)
    tenant = await f.tenant()
    root = await f.partner(tenant, name=unique("Root reseller "))
    middle = await f.partner(tenant, parent_id=root, name=unique("Middle reseller "))
    grandchild = await f.partner(tenant, parent_id=middle, name=unique("Grandchild reseller "))
    sibling = await f.partner(tenant, parent_id=root, name=unique("Sibling reseller "))
    method_name = unique("Check ")
    method = await f.insert(
        m.PaymentMethod, tenant_id=tenant, name=method_name, method_type="check"
    )
    admin = await f.user(tenant, role="admin")
    partner_user = await f.user(tenant, role="partner", partner_id=middle)
    token, manager = await manager_token(engine, tenant, middle, MANAGER_PERMISSIONS)
    world = World(
        engine,
        tenant,
        root,
        middle,
        grandchild,
        sibling,
        method,
        method_name,
        admin,
        partner_user,
        manager,
        token,
    )
    for reseller in (root, middle, grandchild, sibling):
        world.accounts[reseller] = await f.insert(
            m.Account, tenant_id=tenant, reseller_id=reseller, name=unique("Customer ")
        )
        world.invoices[reseller] = await f.insert(
            m.Invoice,
            tenant_id=tenant,
            number=unique("INV-"),
            account_id=world.accounts[reseller],
            total_amount=AMOUNT,
            currency=CURRENCY,
            status="open",
            issued_on=date(2025, 10, 1),
        )
    return world


# --- the client side --------------------------------------------------------------------

PAYMENT_FIELDS = """
fragment PaymentFields on Payment {
  id databaseId kind status documentNumber closedAt paidAt requesterIp updatedAt
  expirationDate
  amount { amount currency }
  paidAmount { amount currency }
  manager { databaseId role }
  paymentMethod { databaseId name }
  reseller { databaseId }
  account { databaseId }
  invoices { databaseId }
  events { nodes { action fromStatus toStatus actorLabel actor { databaseId } } }
  accountingTransactions {
    nodes { postingId accountCode direction amount { amount currency } }
  }
}
"""
COMPLETE = (
    """mutation(
  $reseller: ID!, $document: String!, $method: ID!, $key: String!,
  $total: BigInt, $currency: String
) {
  completePayment(
    resellerId: $reseller, documentId: $document, paymentMethodId: $method,
    idempotencyKey: $key, total: $total, currencyCode: $currency
  ) { success replayed payment { ...PaymentFields } }
}"""
    + PAYMENT_FIELDS
)
COMPLETE_BY_ID = (
    """mutation(
  $id: ID!, $method: ID!, $key: String!, $total: BigInt, $currency: String
) {
  completePaymentById(
    id: $id, paymentMethodId: $method, idempotencyKey: $key, total: $total,
    currencyCode: $currency
  ) { success replayed payment { ...PaymentFields } }
}"""
    + PAYMENT_FIELDS
)
READ = "query($id: ID!) { payment(id: $id) { ...PaymentFields } }" + PAYMENT_FIELDS


async def execute(
    server: RunningServer, headers: dict[str, str], operation: str, /, **variables: Any
) -> dict[str, Any]:
    """One operation through gql over HTTP; raises TransportQueryError on errors."""
    transport = HTTPXAsyncTransport(verify=TLS, url=server.graphql_url, headers=headers, timeout=60)
    async with Client(transport=transport) as session:
        request = GraphQLRequest(operation, variable_values=variables or None)
        result: dict[str, Any] = await session.execute(request)
        return result


async def refused(
    server: RunningServer, headers: dict[str, str], operation: str, /, **variables: Any
) -> dict[str, Any]:
    """The one error an operation fails with; no data comes with it."""
    with pytest.raises(TransportQueryError) as failure:
        await execute(server, headers, operation, **variables)
    errors = failure.value.errors or []
    assert len(errors) == 1, errors
    assert not any((failure.value.data or {}).values()), failure.value.data
    error: dict[str, Any] = errors[0]
    return error


def by_number(world: World, pay: Pay, key: str | None = None, **extra: Any) -> dict[str, Any]:
    """completePayment's variables for `pay`, with the world's method and a fresh key."""
    variables: dict[str, Any] = {
        "reseller": str(pay.reseller_id),
        "document": pay.number,
        "method": str(world.method_id),
        "key": key or unique("key-"),
    }
    return {**variables, **extra}


def by_id(world: World, pay: Pay, key: str | None = None, **extra: Any) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "id": str(pay.id),
        "method": str(world.method_id),
        "key": key or unique("key-"),
    }
    return {**variables, **extra}


async def complete(
    server: RunningServer, headers: dict[str, str], world: World, pay: Pay, **extra: Any
) -> dict[str, Any]:
    answer = await execute(server, headers, COMPLETE, **by_number(world, pay, **extra))
    payload: dict[str, Any] = answer["completePayment"]
    return payload


async def read(server: RunningServer, headers: dict[str, str], pay: Pay) -> dict[str, Any]:
    payment: dict[str, Any] = (await execute(server, headers, READ, id=str(pay.id)))["payment"]
    return payment


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float, what: str
) -> T:
    """Poll `probe` until `done` holds, up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s; last seen: {value!r}")
        await asyncio.sleep(0.05)


# --- the database side ------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What a refused request must leave exactly as it was."""

    payment: tuple[Any, ...]
    events: int
    ledger_lines: int
    idempotency_keys: int

    @property
    def status_version(self) -> tuple[str, int]:
        return self.payment[0], self.payment[1]

    @property
    def requester_ip(self) -> str | None:
        ip: str | None = self.payment[8]
        return ip


async def snapshot(engine: AsyncEngine, pay: Pay) -> Snapshot:
    p = m.Payment

    async def count(statement: Any) -> int:
        return int((await connection.execute(statement)).scalar_one())

    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(
                    p.status,
                    p.version,
                    p.updated_at,
                    p.closed_at,
                    p.paid_at,
                    p.paid_amount,
                    p.manager_id,
                    p.payment_method_id,
                    p.requester_ip,
                ).where(p.id == pay.id)
            )
        ).one()
        tenant_id = (await connection.execute(select(p.tenant_id).where(p.id == pay.id))).scalar()
        return Snapshot(
            tuple(row),
            await count(select(func.count()).where(m.PaymentEvent.payment_id == pay.id)),
            await count(select(func.count()).where(m.AccountingTransaction.payment_id == pay.id)),
            await count(select(func.count()).where(m.IdempotencyKey.tenant_id == tenant_id)),
        )


async def ledger(engine: AsyncEngine, pay: Pay) -> list[tuple[str, str, str, int, str]]:
    """The payment's ledger lines: (posting id, account, direction, amount, currency)."""
    t = m.AccountingTransaction
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(t.posting_id, t.account_code, t.direction, t.amount, t.currency)
                .where(t.payment_id == pay.id)
                .order_by(t.id)
            )
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def events(engine: AsyncEngine, pay: Pay) -> list[tuple[str, str | None, str | None]]:
    e = m.PaymentEvent
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(e.action, e.from_status, e.to_status)
                .where(e.payment_id == pay.id)
                .order_by(e.id)
            )
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def assert_balanced_completion(lines: list[tuple[str, str, str, int, str]]) -> None:
    """One posting of two lines: debit external_receipts, credit customer_receivables."""
    assert len(lines) == 2, lines
    assert len({line[0] for line in lines}) == 1, lines
    assert sorted(line[1:] for line in lines) == [
        ("customer_receivables", "credit", AMOUNT, CURRENCY),
        ("external_receipts", "debit", AMOUNT, CURRENCY),
    ]


def assert_completed(
    payment: dict[str, Any],
    world: World,
    pay: Pay,
    *,
    from_status: str,
    manager_id: int,
    requester_ip: str = "127.0.0.1",
) -> None:
    """The answer of a completion: document 002's attributes and relationships, its
    audit event and its ledger posting."""
    assert payment["databaseId"] == pay.id
    assert payment["kind"] == "RESELLER"
    assert payment["status"] == "COMPLETED"
    assert payment["documentNumber"] == pay.number
    assert payment["closedAt"] is not None
    assert payment["paidAt"] == payment["closedAt"]
    assert payment["amount"] == {"amount": str(AMOUNT), "currency": CURRENCY}
    assert payment["paidAmount"] == {"amount": str(AMOUNT), "currency": CURRENCY}
    assert payment["requesterIp"] == requester_ip
    assert payment["manager"]["databaseId"] == manager_id
    assert payment["paymentMethod"] == {"databaseId": world.method_id, "name": world.method_name}
    assert payment["reseller"] == {"databaseId": pay.reseller_id}
    assert payment["account"] == {"databaseId": pay.account_id}
    assert payment["invoices"] == [{"databaseId": pay.invoice_id}]
    [event] = payment["events"]["nodes"]
    assert event["action"] == "complete"
    assert (event["fromStatus"], event["toStatus"]) == (from_status, "COMPLETED")
    assert event["actor"] == {"databaseId": manager_id}
    lines = payment["accountingTransactions"]["nodes"]
    assert len(lines) == 2 and len({line["postingId"] for line in lines}) == 1, lines
    assert sorted(
        (line["accountCode"], line["direction"], line["amount"]["amount"]) for line in lines
    ) == [
        ("customer_receivables", "CREDIT", str(AMOUNT)),
        ("external_receipts", "DEBIT", str(AMOUNT)),
    ]


async def assert_completed_once(engine: AsyncEngine, pay: Pay, from_status: str) -> None:
    assert await events(engine, pay) == [("complete", from_status, "completed")]
    assert_balanced_completion(await ledger(engine, pay))


# --- success ----------------------------------------------------------------------------


async def test_a_manager_completes_its_resellers_waiting_payment_by_number(
    server: RunningServer, engine: AsyncEngine
) -> None:
    # Given a payment of the manager's own reseller, waiting for payment
    world = await new_world(engine)
    pay = await world.payment()

    # When the manager completes it by its number, as document 002's POST does
    payload = await complete(server, world.manager, world, pay, total=AMOUNT, currency=CURRENCY)

    # Then it is completed, with the manager, method, IP and relationships recorded
    assert payload["success"] is True
    assert payload["replayed"] is False
    assert_completed(
        payload["payment"],
        world,
        pay,
        from_status="WAITING_FOR_PAYMENT",
        manager_id=world.manager_id,
    )
    assert payload["payment"]["manager"]["role"] == "MANAGER"
    # and one audited transition with one balanced posting is stored
    await assert_completed_once(engine, pay, "waiting_for_payment")
    after = await snapshot(engine, pay)
    assert after.status_version == ("completed", 2)
    # and a later read agrees with the answer
    again = await read(server, world.manager, pay)
    assert again["status"] == "COMPLETED"
    assert again["closedAt"] == payload["payment"]["closedAt"]


async def test_a_manager_completes_an_expired_payment_by_id(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment(status="expired")
    global_id = (await read(server, world.manager, pay))["id"]

    # by its global ID
    answer = await execute(server, world.manager, COMPLETE_BY_ID, **by_id(world, pay, id=global_id))

    payload = answer["completePaymentById"]
    assert (payload["success"], payload["replayed"]) == (True, False)
    assert_completed(
        payload["payment"], world, pay, from_status="EXPIRED", manager_id=world.manager_id
    )
    await assert_completed_once(engine, pay, "expired")


async def test_a_manager_completes_a_waiting_payment_by_numeric_id_and_an_expired_one_by_number(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    waiting = await world.payment()
    expired = await world.payment(status="expired")

    by_id_answer = await execute(server, world.manager, COMPLETE_BY_ID, **by_id(world, waiting))
    by_number_payload = await complete(server, world.manager, world, expired)

    assert_completed(
        by_id_answer["completePaymentById"]["payment"],
        world,
        waiting,
        from_status="WAITING_FOR_PAYMENT",
        manager_id=world.manager_id,
    )
    assert_completed(
        by_number_payload["payment"],
        world,
        expired,
        from_status="EXPIRED",
        manager_id=world.manager_id,
    )
    await assert_completed_once(engine, waiting, "waiting_for_payment")
    await assert_completed_once(engine, expired, "expired")


async def test_a_tenant_admin_with_complete_payments_completes_any_resellers_payment(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    root_payment = await world.payment(world.root)
    sibling_payment = await world.payment(world.sibling, status="expired")
    admin = world.admin(COMPLETE_PAYMENTS, VIEW_PAYMENTS)

    by_number_payload = await complete(server, admin, world, root_payment)
    by_id_answer = await execute(server, admin, COMPLETE_BY_ID, **by_id(world, sibling_payment))

    assert_completed(
        by_number_payload["payment"],
        world,
        root_payment,
        from_status="WAITING_FOR_PAYMENT",
        manager_id=world.admin_id,
    )
    assert by_number_payload["payment"]["manager"]["role"] == "ADMIN"
    assert_completed(
        by_id_answer["completePaymentById"]["payment"],
        world,
        sibling_payment,
        from_status="EXPIRED",
        manager_id=world.admin_id,
    )
    await assert_completed_once(engine, root_payment, "waiting_for_payment")
    await assert_completed_once(engine, sibling_payment, "expired")


# --- the reseller tree ------------------------------------------------------------------


async def test_a_manager_completes_below_its_reseller_but_not_above_or_beside_it(
    server: RunningServer, engine: AsyncEngine
) -> None:
    # Given root -> middle -> grandchild, a sibling of middle, and middle's manager
    world = await new_world(engine)
    grandchilds = await world.payment(world.grandchild)
    parents = await world.payment(world.root)
    siblings = await world.payment(world.sibling)

    # When the manager completes each of them, by number and by id
    done = await complete(server, world.manager, world, grandchilds)
    before = {pay: await snapshot(engine, pay) for pay in (parents, siblings)}
    outside = []
    for pay in (parents, siblings):
        outside.append(await refused(server, world.manager, COMPLETE, **by_number(world, pay)))
        outside.append(await refused(server, world.manager, COMPLETE_BY_ID, **by_id(world, pay)))

    # Then the grandchild's is completed
    assert_completed(
        done["payment"],
        world,
        grandchilds,
        from_status="WAITING_FOR_PAYMENT",
        manager_id=world.manager_id,
    )
    await assert_completed_once(engine, grandchilds, "waiting_for_payment")
    # and the parent's and sibling's do not exist for it: PAYMENT-001, nothing changed
    assert [error["extensions"]["code"] for error in outside] == ["PAYMENT-001"] * 4
    assert {error["message"] for error in outside} == {DOCUMENT_NOT_FOUND}
    for pay in (parents, siblings):
        assert await snapshot(engine, pay) == before[pay]
        assert before[pay].status_version == ("waiting_for_payment", 1)
    # and a manager of the grandchild cannot reach its parent (middle) either
    grandchild_manager = await world.another_manager(world.grandchild, *MANAGER_PERMISSIONS)
    middles = await world.payment(world.middle)
    error = await refused(server, grandchild_manager, COMPLETE, **by_number(world, middles))
    assert error["extensions"]["code"] == "PAYMENT-001"
    assert (await snapshot(engine, middles)).status_version == ("waiting_for_payment", 1)


# --- document 002's errors --------------------------------------------------------------


async def test_payment_001_for_an_unknown_number_or_another_resellers_number(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment(world.grandchild)
    invoice_payment = await Factory(engine).payment(world.tenant_id, kind="invoice")
    elsewhere = await new_world(engine)
    theirs = await elsewhere.payment()
    before = await snapshot(engine, pay)
    admin = world.admin(COMPLETE_PAYMENTS, VIEW_PAYMENTS)
    cases = {
        "unknown number": (
            world.manager,
            COMPLETE,
            by_number(world, pay, document="999999999999"),
        ),
        # the grandchild's number exists, but not for the middle reseller
        "another reseller's number": (
            world.manager,
            COMPLETE,
            by_number(world, pay, reseller=str(world.middle)),
        ),
        "a reseller id that is no reseller": (
            world.manager,
            COMPLETE,
            by_number(world, pay, reseller="not-a-reseller"),
        ),
        "unknown id": (world.manager, COMPLETE_BY_ID, by_id(world, pay, id="999999999999")),
        "an id that does not parse": (world.manager, COMPLETE_BY_ID, by_id(world, pay, id="x")),
        "another tenant's payment by number": (
            world.manager,
            COMPLETE,
            by_number(world, theirs),
        ),
        "another tenant's payment by id": (admin, COMPLETE_BY_ID, by_id(world, theirs)),
        "an invoice payment's id": (
            admin,
            COMPLETE_BY_ID,
            by_id(world, pay, id=str(invoice_payment)),
        ),
    }

    errors = {
        name: await refused(server, headers, operation, **variables)
        for name, (headers, operation, variables) in cases.items()
    }

    assert {name: e["extensions"]["code"] for name, e in errors.items()} == dict.fromkeys(
        cases, "PAYMENT-001"
    )
    assert {e["message"] for e in errors.values()} == {DOCUMENT_NOT_FOUND}
    assert await snapshot(engine, pay) == before
    assert (await snapshot(engine, theirs)).status_version == ("waiting_for_payment", 1)


async def test_payment_002_for_an_unknown_or_unparseable_payment_method(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    other_tenant = await new_world(engine)  # its method exists, in another tenant
    before = await snapshot(engine, pay)
    methods = ["999999999999", "not-a-method", str(other_tenant.method_id)]

    errors = []
    for method in methods:
        errors.append(
            await refused(server, world.manager, COMPLETE, **by_number(world, pay, method=method))
        )
        errors.append(
            await refused(server, world.manager, COMPLETE_BY_ID, **by_id(world, pay, method=method))
        )

    assert [e["extensions"]["code"] for e in errors] == ["PAYMENT-002"] * 6
    assert {e["message"] for e in errors} == {METHOD_NOT_FOUND}
    assert {e["extensions"].get("field") for e in errors} == {"paymentMethodId"}
    assert await snapshot(engine, pay) == before


async def test_payment_003_for_another_currency_and_a_lower_case_match_is_accepted(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    before = await snapshot(engine, pay)

    mismatches = [
        await refused(server, world.manager, COMPLETE, **by_number(world, pay, currency=code))
        for code in ("EUR", "mxn", "XXX")
    ]
    mismatch_by_id = await refused(
        server, world.manager, COMPLETE_BY_ID, **by_id(world, pay, currency="EUR")
    )

    for error in [*mismatches, mismatch_by_id]:
        assert error["extensions"]["code"] == "PAYMENT-003", error
        assert error["message"] == CURRENCY_MISMATCH
        assert error["extensions"].get("field") == "currencyCode"
    assert await snapshot(engine, pay) == before

    # the payment's own currency, in lower case, is the same currency
    payload = await complete(server, world.manager, world, pay, currency="usd")
    assert_completed(
        payload["payment"],
        world,
        pay,
        from_status="WAITING_FOR_PAYMENT",
        manager_id=world.manager_id,
    )
    await assert_completed_once(engine, pay, "waiting_for_payment")


async def test_a_total_other_than_the_payments_is_refused_in_minor_units(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    before = await snapshot(engine, pay)

    # 123 and 12346 are not 12345 minor units; the major-unit amount 123 is not either
    errors = [
        await refused(server, world.manager, COMPLETE, **by_number(world, pay, total=total))
        for total in (AMOUNT + 1, AMOUNT - 1, 123, "0")
    ]
    errors.append(
        await refused(server, world.manager, COMPLETE_BY_ID, **by_id(world, pay, total=1))
    )

    for error in errors:
        assert error["extensions"]["code"] == "PAYMENT_TOTAL_MISMATCH", error
        assert error["extensions"].get("field") == "total"
    assert str(AMOUNT) in errors[0]["message"]
    # document 002's decimal total (123.45) is not a BigInt of minor units at all
    decimal = await refused(server, world.manager, COMPLETE, **by_number(world, pay, total=123.45))
    assert decimal["extensions"]["code"] == "BAD_USER_INPUT", decimal
    assert await snapshot(engine, pay) == before

    # the exact total, as a BigInt string of digits, is accepted
    payload = await complete(server, world.manager, world, pay, total=str(AMOUNT))
    assert payload["payment"]["status"] == "COMPLETED"
    await assert_completed_once(engine, pay, "waiting_for_payment")


@pytest.mark.parametrize("status", ["completed", "cancelled"])
async def test_a_payment_neither_waiting_nor_expired_cannot_be_completed(
    server: RunningServer, engine: AsyncEngine, status: str
) -> None:
    world = await new_world(engine)
    pay = await world.payment(status=status)
    before = await snapshot(engine, pay)

    errors = [
        await refused(server, world.manager, COMPLETE, **by_number(world, pay)),
        await refused(server, world.manager, COMPLETE_BY_ID, **by_id(world, pay)),
        await refused(
            server,
            world.admin(COMPLETE_PAYMENTS),
            COMPLETE,
            **by_number(world, pay, total=AMOUNT, currency=CURRENCY),
        ),
    ]

    for error in errors:
        assert error["extensions"]["code"] == "INVALID_STATE", error
        assert error["message"] == NOT_COMPLETABLE
        assert error["extensions"]["status"] == status
        assert error["extensions"]["reason"] == "WRONG_STATUS"
    assert await snapshot(engine, pay) == before


async def test_the_checks_run_in_document_002s_order(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """PAYMENT-001, then PAYMENT-002, PAYMENT-003, the total, and the status last."""
    world = await new_world(engine)
    pay = await world.payment(status="completed")
    before = await snapshot(engine, pay)
    everything_wrong = {"method": "999999999999", "currency": "EUR", "total": 1}
    cases = [
        ("PAYMENT-001", by_number(world, pay, document="999999999999", **everything_wrong)),
        ("PAYMENT-002", by_number(world, pay, **everything_wrong)),
        ("PAYMENT-003", by_number(world, pay, currency="EUR", total=1)),
        ("PAYMENT_TOTAL_MISMATCH", by_number(world, pay, currency="usd", total=1)),
        ("INVALID_STATE", by_number(world, pay, currency="USD", total=AMOUNT)),
    ]

    codes = [
        (await refused(server, world.manager, COMPLETE, **variables))["extensions"]["code"]
        for _, variables in cases
    ]

    assert codes == [expected for expected, _ in cases]
    assert await snapshot(engine, pay) == before


async def test_an_unparseable_method_id_does_not_come_before_payment_001(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """README: the checks run in the order PAYMENT-001, then PAYMENT-002. A method id
    that does not parse is just a method that does not exist, so an unknown document
    must still answer PAYMENT-001 first."""
    world = await new_world(engine)
    pay = await world.payment()

    by_number_error = await refused(
        server,
        world.manager,
        COMPLETE,
        **by_number(world, pay, document="999999999999", method="not-a-method"),
    )
    by_id_error = await refused(
        server,
        world.manager,
        COMPLETE_BY_ID,
        **by_id(world, pay, id="999999999999", method="not-a-method"),
    )

    codes = (by_number_error["extensions"]["code"], by_id_error["extensions"]["code"])
    assert codes == ("PAYMENT-001", "PAYMENT-001"), (
        "PRODUCTION BUG (resolvers/payments.py, _completion called from complete_payment "
        "and complete_payment_by_id): an unparseable paymentMethodId raises PAYMENT-002 "
        "in the resolver before the use case looks the payment up, so an unknown "
        f"document answers {codes} instead of PAYMENT-001 as README's check order says"
    )


# --- who may complete -------------------------------------------------------------------


async def test_a_partner_user_with_complete_payments_is_forbidden(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    before = await snapshot(engine, pay)
    partner_user = world.partner_user(COMPLETE_PAYMENTS, VIEW_PAYMENTS)

    errors = [
        await refused(server, partner_user, COMPLETE, **by_number(world, pay)),
        await refused(server, partner_user, COMPLETE_BY_ID, **by_id(world, pay)),
    ]

    for error in errors:
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert error["extensions"]["reason"] == "WRONG_CALLER"
    assert await snapshot(engine, pay) == before


async def test_a_partner_user_is_refused_before_its_arguments_are_read(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """README: a partner user is refused (FORBIDDEN, WRONG_CALLER); who may call is
    decided before what was asked for is looked at."""
    world = await new_world(engine)
    pay = await world.payment()
    partner_user = world.partner_user(COMPLETE_PAYMENTS, VIEW_PAYMENTS)

    errors = [
        await refused(server, partner_user, COMPLETE, **by_number(world, pay, method="x")),
        await refused(server, partner_user, COMPLETE, **by_number(world, pay, reseller="x")),
        await refused(server, partner_user, COMPLETE_BY_ID, **by_id(world, pay, id="x")),
    ]

    found = [(e["extensions"]["code"], e["extensions"].get("reason")) for e in errors]
    assert found == [("FORBIDDEN", "WRONG_CALLER")] * 3, (
        "PRODUCTION BUG (resolvers/payments.py, complete_payment / complete_payment_by_id / "
        "_completion): unparseable resellerId, id or paymentMethodId raise PAYMENT-001/002 "
        "in the resolver before domain.reseller_payments.completion_scope refuses the "
        f"partner user, so it gets {found} instead of FORBIDDEN (WRONG_CALLER)"
    )


async def test_a_manager_without_complete_payments_is_forbidden(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    before = await snapshot(engine, pay)
    readers = [
        await world.another_manager(world.middle, VIEW_PAYMENTS),
        await world.another_manager(world.root, VIEW_PAYMENTS, MANAGE_PAYMENTS),
        world.admin(VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS, MANAGE_PAYMENTS),
    ]

    errors = []
    for headers in readers:
        errors.append(await refused(server, headers, COMPLETE, **by_number(world, pay)))
        errors.append(await refused(server, headers, COMPLETE_BY_ID, **by_id(world, pay)))

    for error in errors:
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert COMPLETE_PAYMENTS in error["message"]
    assert await snapshot(engine, pay) == before
    # and the token can still read the payment it may not complete
    assert (await read(server, readers[0], pay))["status"] == "WAITING_FOR_PAYMENT"


# --- idempotency ------------------------------------------------------------------------


async def test_the_same_key_and_input_replays_the_completion(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    variables = by_number(world, pay, key="complete-once", total=AMOUNT, currency=CURRENCY)

    first = (await execute(server, world.manager, COMPLETE, **variables))["completePayment"]
    completed = await snapshot(engine, pay)
    second = (await execute(server, world.manager, COMPLETE, **variables))["completePayment"]

    assert (first["replayed"], second["replayed"]) == (False, True)
    assert second["success"] is True
    assert second["payment"] == first["payment"]
    assert await snapshot(engine, pay) == completed
    await assert_completed_once(engine, pay, "waiting_for_payment")

    # by id too
    other = await world.payment(status="expired")
    id_variables = by_id(world, other, key="complete-by-id-once")
    answers = [
        (await execute(server, world.manager, COMPLETE_BY_ID, **id_variables))[
            "completePaymentById"
        ]
        for _ in range(2)
    ]
    assert [a["replayed"] for a in answers] == [False, True]
    assert answers[1]["payment"] == answers[0]["payment"]
    await assert_completed_once(engine, other, "expired")


async def test_the_same_key_with_another_input_is_refused(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    another = await world.payment()
    await complete(server, world.manager, world, pay, key="used-once")
    completed = await snapshot(engine, pay)
    untouched = await snapshot(engine, another)
    other_method = await Factory(engine).insert(
        m.PaymentMethod, tenant_id=world.tenant_id, name="Wire", method_type="bank_transfer"
    )

    reuses = [
        (COMPLETE, by_number(world, pay, key="used-once", total=AMOUNT)),
        (COMPLETE, by_number(world, pay, key="used-once", currency="USD")),
        (COMPLETE, by_number(world, pay, key="used-once", method=str(other_method))),
        (COMPLETE, by_number(world, another, key="used-once")),
        (COMPLETE_BY_ID, by_id(world, pay, key="used-once")),
    ]
    errors = [
        await refused(server, world.manager, operation, **variables)
        for operation, variables in reuses
    ]

    for error in errors:
        assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED", error
        assert error["extensions"].get("field") == "idempotencyKey"
    assert await snapshot(engine, pay) == completed
    assert await snapshot(engine, another) == untouched
    await assert_completed_once(engine, pay, "waiting_for_payment")


# --- the requester's IP -----------------------------------------------------------------


async def test_x_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(
    server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    headers = {**world.manager, "X-Forwarded-For": "203.0.113.7, 127.0.0.1"}

    payload = await complete(server, headers, world, pay)

    recorded = (payload["payment"]["requesterIp"], (await snapshot(engine, pay)).requester_ip)
    assert recorded == ("127.0.0.1", "127.0.0.1"), (
        "PRODUCTION BUG (gateway/cli.py, _serve: uvicorn.run(...) without "
        "proxy_headers=False): uvicorn's own ProxyHeadersMiddleware trusts X-Forwarded-For "
        "from 127.0.0.1/::1 by default (FORWARDED_ALLOW_IPS), rewrites request.client "
        "before gateway.client_ip sees it, so with PAYGRAPH_TRUSTED_PROXIES unset the "
        f"spoofed header is recorded as requesterIp: {recorded}"
    )


async def test_x_forwarded_for_names_the_requester_behind_a_trusted_proxy(
    proxied_server: RunningServer, engine: AsyncEngine
) -> None:
    world = await new_world(engine)
    pay = await world.payment()
    headers = {**world.manager, "X-Forwarded-For": "203.0.113.7, 127.0.0.1"}

    payload = await complete(proxied_server, headers, world, pay)

    assert_completed(
        payload["payment"],
        world,
        pay,
        from_status="WAITING_FOR_PAYMENT",
        manager_id=world.manager_id,
        requester_ip="203.0.113.7",
    )
    assert (await snapshot(engine, pay)).requester_ip == "203.0.113.7"
    # without the header, the proxy itself is the requester
    direct = await world.payment()
    answer = await execute(proxied_server, world.manager, COMPLETE_BY_ID, **by_id(world, direct))
    assert answer["completePaymentById"]["payment"]["requesterIp"] == "127.0.0.1"


# --- expiry -----------------------------------------------------------------------------


async def test_the_servers_expiry_job_expires_a_waiting_payment_past_its_date(
    expiring_server: RunningServer, engine: AsyncEngine
) -> None:
    # Given a running server whose job runs every 0.2 s, a payment that expires in an
    # hour, then one whose expiration date passed a minute ago
    world = await new_world(engine)
    now = datetime.now(UTC)
    later = await world.payment(expiration_date=now + timedelta(hours=1))
    due = await world.payment(expiration_date=now - timedelta(minutes=1))
    started = time.monotonic()

    # When the job has run, the due payment reads as EXPIRED
    expired = await eventually(
        lambda: read(expiring_server, world.manager, due),
        lambda payment: payment["status"] == "EXPIRED",
        EXPIRY_DEADLINE,
        "the due payment expiring",
    )
    took = time.monotonic() - started
    print(f"\nthe expiry job (every {EXPIRY_INTERVAL} s) expired the payment in {took:.2f} s")

    # Then by one audited transition made by PayGraph, with no posting
    [event] = expired["events"]["nodes"]
    assert event["action"] == "expire"
    assert (event["fromStatus"], event["toStatus"]) == ("WAITING_FOR_PAYMENT", "EXPIRED")
    assert (event["actorLabel"], event["actor"]) == ("PayGraph", None)
    assert expired["accountingTransactions"]["nodes"] == []
    assert expired["closedAt"] is None
    # and when a payment that falls due now has expired too, in a later run of the job,
    # the payment not yet due still waits, untouched
    also_due = await world.payment(expiration_date=datetime.now(UTC))
    await eventually(
        lambda: read(expiring_server, world.manager, also_due),
        lambda payment: payment["status"] == "EXPIRED",
        EXPIRY_DEADLINE,
        "the second due payment expiring",
    )
    assert (await read(expiring_server, world.manager, later))["status"] == "WAITING_FOR_PAYMENT"
    assert await events(engine, later) == []
    assert (await snapshot(engine, later)).status_version == ("waiting_for_payment", 1)
    assert await events(engine, due) == [("expire", "waiting_for_payment", "expired")]
    # and the expired payment can still be completed
    payload = await complete(expiring_server, world.manager, world, due)
    assert payload["payment"]["status"] == "COMPLETED"
    assert [e[0] for e in await events(engine, due)] == ["expire", "complete"]


async def test_paygraph_expire_expires_a_due_payment_when_the_servers_job_is_off(
    server: RunningServer, engine: AsyncEngine, database_url: str
) -> None:
    # Given a server with its job off (PAYGRAPH_EXPIRY_INTERVAL=0) and a due payment
    world = await new_world(engine)
    now = datetime.now(UTC)
    due = await world.payment(expiration_date=now - timedelta(seconds=1))
    later = await world.payment(expiration_date=now + timedelta(hours=1))
    assert (await read(server, world.manager, due))["status"] == "WAITING_FOR_PAYMENT"

    # When an operator's scheduler runs `paygraph expire` once
    paygraph = Path(sys.executable).with_name("paygraph")
    done = subprocess.run(
        [str(paygraph), "expire"],
        cwd=ROOT,
        env={**server.env, "DATABASE_URL": database_url, "PAYGRAPH_EXPIRY_INTERVAL": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it reports and makes the transition, which the server reads at once
    assert done.returncode == 0, done.stderr
    count = int(done.stdout.strip().removeprefix("expired ").split()[0])
    assert count >= 1, done.stdout
    assert done.stdout.strip().endswith("reseller payment(s)"), done.stdout
    expired = await read(server, world.manager, due)
    assert expired["status"] == "EXPIRED"
    [event] = expired["events"]["nodes"]
    assert (event["action"], event["actorLabel"]) == ("expire", "PayGraph")
    assert (await read(server, world.manager, later))["status"] == "WAITING_FOR_PAYMENT"
    assert await events(engine, due) == [("expire", "waiting_for_payment", "expired")]


# --- a race (PostgreSQL) ----------------------------------------------------------------


@ON_POSTGRESQL
async def test_twenty_concurrent_completions_complete_a_payment_once(
    server: RunningServer, engine: AsyncEngine
) -> None:
    # Given one waiting payment
    world = await new_world(engine)
    pay = await world.payment()

    async def attempt(n: int) -> tuple[str | None, dict[str, Any]]:
        variables = by_number(world, pay, key=f"race-{n}")
        try:
            answer = await execute(server, world.manager, COMPLETE, **variables)
        except TransportQueryError as failure:
            [error] = failure.errors or [{}]
            return error["extensions"]["code"], error
        return None, answer["completePayment"]

    # When 20 requests with 20 different keys race to complete it
    started = time.monotonic()
    outcomes = await asyncio.gather(*(attempt(n) for n in range(CONCURRENT)))
    elapsed = time.monotonic() - started

    # Then one completes it and 19 are told it is completed already
    winners = [body for code, body in outcomes if code is None]
    losers = [body for code, body in outcomes if code is not None]
    codes = Counter(str(code) for code, _ in outcomes)
    reasons = Counter(str(body["extensions"].get("reason")) for body in losers)
    print(
        f"\n{CONCURRENT} concurrent completions in {elapsed:.2f} s: "
        f"{len(winners)} completed, codes {dict(codes)}, reasons {dict(reasons)}"
    )
    assert len(winners) == 1, codes
    assert winners[0]["payment"]["status"] == "COMPLETED"
    assert {body["extensions"]["code"] for body in losers} == {"INVALID_STATE"}, codes
    assert {body["extensions"]["status"] for body in losers} == {"completed"}
    assert len(losers) == CONCURRENT - 1
    # and the store has one transition, one posting of two lines, one completed key
    after = await snapshot(engine, pay)
    assert after.status_version == ("completed", 2)
    assert (after.events, after.ledger_lines, after.idempotency_keys) == (1, 2, 1)
    await assert_completed_once(engine, pay, "waiting_for_payment")
