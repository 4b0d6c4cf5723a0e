"""Subscriptions over real websockets (graphql-transport-ws on /graphql) against running
servers, on SQLite (the in-process broker) and PostgreSQL (LISTEN/NOTIFY): delivery of
each change, the subscriber's scope at delivery, authentication in `connection_init`,
token expiry, limits, and fan-out across two server processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.permissions import MANAGE_PAYMENTS, VIEW_PAYMENTS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.factories import Factory, unique
from tests.live_client import live_client

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)

CHANGED = """subscription($filter: PaymentFilter) {
  paymentChanged(filter: $filter) { databaseId status description partner { databaseId } }
}"""
EVENTS = """subscription($id: ID!) {
  paymentEvents(paymentId: $id) { databaseId action toStatus comments }
}"""
UPDATE = """mutation($id: ID!, $input: UpdatePaymentInput!) {
  updatePayment(id: $id, input: $input) { success }
}"""


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    environment = {"PAYGRAPH_SUBSCRIPTION_PING_INTERVAL": "0.5"}
    with running_server(database_url, env=environment) as running:
        yield running


@dataclass
class Partners:
    """A tenant with two sibling partners, `mine` (with a partner user) and `theirs`,
    and invoice payments of each."""

    tenant_id: int
    admin_id: int
    mine: int
    theirs: int
    mine_user: int
    my_payments: list[int]
    their_payments: list[int]

    def admin(self, *, ttl: int = 3600) -> str:
        permissions = [VIEW_PAYMENTS, MANAGE_PAYMENTS]
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=self.admin_id,
            permissions=permissions,
            ttl_seconds=ttl,
        )

    def partner_user(self) -> str:
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=self.mine_user,
            permissions=[VIEW_PAYMENTS],
            partner_id=self.mine,
        )


async def partners(engine: AsyncEngine, payments: int = 2) -> Partners:
    f = Factory(engine)
    tenant = await f.tenant()
    admin = await f.user(tenant)
    parent = await f.partner(tenant, kind="isv")
    mine = await f.partner(tenant, parent_id=parent, kind="var")
    theirs = await f.partner(tenant, parent_id=parent, kind="var")
    mine_user = await f.user(tenant, role="partner", partner_id=mine)
    invoice = await f.insert(
        m.Invoice,
        tenant_id=tenant,
        number=unique("INV-"),
        total_amount=10_000_000,
        paid_amount=0,
        currency="USD",
        status="open",
        issued_on=date(2025, 3, 1),
    )
    my_payments, their_payments = [
        [await f.payment(tenant, partner_id=p, invoice_id=invoice) for _ in range(payments)]
        for p in (mine, theirs)
    ]
    return Partners(tenant, admin, mine, theirs, mine_user, my_payments, their_payments)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def change(server: RunningServer, token: str, payment_id: int, description: str) -> None:
    """An invoice payment's description changed through the HTTP API, as a client would."""
    async with httpx.AsyncClient(verify=TLS) as client:
        answer = await client.post(
            server.graphql_url,
            json={
                "query": UPDATE,
                "variables": {"id": str(payment_id), "input": {"description": description}},
            },
            headers=bearer(token),
        )
    assert answer.json()["data"] == {"updatePayment": {"success": True}}, answer.text


async def test_a_change_is_delivered_with_the_subscribers_selection(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    token = graph.admin()
    async with live_client(server.graphql_url, bearer(token)) as client:
        operation = await client.subscribe(CHANGED)
        await asyncio.sleep(0.2)  # the subscription is registered before the change

        await change(server, token, graph.my_payments[0], "first change")

        message = await client.next(operation)
    assert message["payload"]["data"] == {
        "paymentChanged": {
            "databaseId": graph.my_payments[0],
            "status": "RECORDED",
            "description": "first change",
            "partner": {"databaseId": graph.mine},
        }
    }
