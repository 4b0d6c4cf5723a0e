"""Subscriptions over real websockets (graphql-transport-ws on /graphql) against running
servers, on SQLite (the in-process broker) and PostgreSQL (LISTEN/NOTIFY): delivery of
each change, the subscriber's scope at delivery, authentication in `connection_init`,
token expiry, limits, and fan-out across two server processes."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.permissions import MANAGE_PAYMENTS, VIEW_PAYMENTS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.backends import POSTGRESQL, on
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.e2e.test_scopes_http import create_manager
from tests.e2e.test_throttle_redis import redis_url
from tests.factories import Factory, unique
from tests.live_client import LiveClient, live_client, read_slowly
from tests.scoped_graphs import siblings

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
REGISTRATION_SECONDS = 1.0

CHANGED = """subscription($filter: PaymentFilter) {
  paymentChanged(filter: $filter) { databaseId status description partner { databaseId } }
}"""
EVENTS = """subscription($id: ID!) {
  paymentEvents(paymentId: $id) { databaseId action toStatus comments }
}"""
UPDATE = """mutation($id: ID!, $input: UpdatePaymentInput!) {
  updatePayment(id: $id, input: $input) { success }
}"""


ON_POSTGRESQL = pytest.mark.parametrize("database_url", on(POSTGRESQL), indirect=True)
# The instances' shared Redis, on a channel of this run's own.
REDIS_CHANNEL = f"paygraph-test-{uuid.uuid4().hex[:12]}:payment-changes"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    environment = {
        "PAYGRAPH_SUBSCRIPTION_PING_INTERVAL": "0.5",
        "PAYGRAPH_SUBSCRIPTIONS_PER_CONNECTION": "3",
        "PAYGRAPH_SUBSCRIPTION_CONNECTIONS_PER_CREDENTIAL": "3",
        "PAYGRAPH_JWT_LEEWAY": "0",  # a token's expiry closes its socket to the second
        "PAYGRAPH_EXPIRY_INTERVAL": "0.5",
    }
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
    tree = await siblings(f)
    tenant = tree.tenant_id
    invoice = await f.invoice(tenant)
    my_payments, their_payments = [
        [await f.payment(tenant, partner_id=p, invoice_id=invoice) for _ in range(payments)]
        for p in (tree.mine, tree.theirs)
    ]
    return Partners(
        tenant, tree.admin_id, tree.mine, tree.theirs, tree.mine_user, my_payments, their_payments
    )


async def registered() -> None:
    """Time for the server to start following the subscriptions just sent: the protocol
    acknowledges none, and the machine running the suite is busy."""
    await asyncio.sleep(REGISTRATION_SECONDS)


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
        await registered()

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


async def test_each_subscriber_receives_only_the_payments_its_scope_shows_it(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    other_tenant = await partners(engine)
    admin = graph.admin()
    async with (
        live_client(server.graphql_url, bearer(admin)) as admins,
        live_client(server.graphql_url, bearer(graph.partner_user())) as partner_users,
        live_client(server.graphql_url, bearer(other_tenant.admin())) as strangers,
    ):
        watching = [await c.subscribe(CHANGED) for c in (admins, partner_users, strangers)]
        filtered = await admins.subscribe(CHANGED, filter={"partnerId": {"eq": graph.theirs}})
        await registered()

        await change(server, admin, graph.their_payments[0], "theirs")
        await change(server, admin, graph.my_payments[0], "mine")

        def delivered(message: dict[str, Any]) -> tuple[int, str]:
            payment = message["payload"]["data"]["paymentChanged"]
            return payment["databaseId"], payment["description"]

        theirs, mine = (graph.their_payments[0], "theirs"), (graph.my_payments[0], "mine")
        assert [delivered(await admins.next(watching[0])) for _ in range(2)] == [theirs, mine]
        assert delivered(await admins.next(filtered)) == theirs
        assert delivered(await partner_users.next(watching[1])) == mine
        assert await partner_users.nothing_within(0.5)
        assert await strangers.nothing_within(0.1)


async def test_each_delivery_is_costed_and_drawn_from_the_callers_bucket(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    admin = graph.admin()
    async with live_client(server.graphql_url, bearer(admin)) as client:
        operation = await client.subscribe(CHANGED)
        await registered()
        await change(server, admin, graph.my_payments[0], "costed")
        await change(server, admin, graph.my_payments[1], "costed")

        costs = [(await client.next(operation))["payload"]["extensions"]["cost"] for _ in "ab"]
    # the payment and its partner: 2 points, each delivery
    assert [c["requestedQueryCost"] for c in costs] == [2, 2]
    assert [c["actualQueryCost"] for c in costs] == [2, 2]
    for cost in costs:  # the bucket refills at 10,000 points a second: no more is seen
        status = cost["throttleStatus"]
        assert status["currentlyAvailable"] <= status["maximumAvailable"] - 2


async def test_a_subscription_costing_more_than_the_limit_is_refused(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    nested = "details(first: 200) { nodes { payment { details(first: 200) { nodes { id } } } } }"
    costly = f"subscription {{ paymentChanged {{ a: {nested} b: {nested} }} }}"
    async with live_client(server.graphql_url, bearer(graph.admin())) as client:
        message = await client.next(await client.subscribe(costly))
        completed = await client.receive()
    assert message["payload"]["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert completed == {"id": message["id"], "type": "complete"}


async def test_queries_and_mutations_are_refused_over_the_websocket(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    admin = graph.admin()
    async with live_client(server.graphql_url, bearer(admin)) as client:
        query = await client.next(await client.subscribe("{ viewer { credential } }"))
        mutation = await client.next(
            await client.subscribe(UPDATE, id=str(graph.my_payments[0]), input={"reference": "x"})
        )
    for refused in (query, mutation):
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_the_servers_expiry_job_delivers_the_expired_payment(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    async with live_client(server.graphql_url, bearer(graph.admin())) as client:
        operation = await client.subscribe(CHANGED)
        await registered()
        due = await Factory(engine).payment(
            graph.tenant_id,
            kind="reseller",
            status="waiting_for_payment",
            partner_id=graph.mine,
            document_number=unique("20"),
            expiration_date=datetime.now(UTC) - timedelta(minutes=1),
        )

        expired = (await client.next(operation))["payload"]["data"]["paymentChanged"]
    assert (expired["databaseId"], expired["status"]) == (due, "EXPIRED")


async def test_payment_events_follow_one_payments_trail(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    admin = graph.admin()
    async with live_client(server.graphql_url, bearer(admin)) as client:
        operation = await client.subscribe(EVENTS, id=str(graph.my_payments[0]))
        await registered()

        await change(server, admin, graph.my_payments[1], "another payment")
        await change(server, admin, graph.my_payments[0], "this payment")
        await change(server, admin, graph.my_payments[0], "again")

        first = (await client.next(operation))["payload"]["data"]["paymentEvents"]
        second = (await client.next(operation))["payload"]["data"]["paymentEvents"]
    assert first["action"] == second["action"] == "update"
    assert first["databaseId"] < second["databaseId"]


async def test_payment_events_of_a_payment_out_of_scope_is_not_found(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    async with live_client(server.graphql_url, bearer(graph.partner_user())) as client:
        operation = await client.subscribe(EVENTS, id=str(graph.their_payments[0]))
        message = await client.next(operation)
    assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"X-Api-Token": "pgk_not_a_token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["none", "bad-jwt", "bad-api-token", "not-bearer"],
)
async def test_a_bad_credential_in_connection_init_closes_with_4403(
    server: RunningServer, payload: dict[str, str]
) -> None:
    async with live_client(server.graphql_url) as client:
        await client.send({"type": "connection_init", "payload": payload})
        assert await client.closed() == (4403, "Forbidden")


async def test_credential_keys_are_read_in_any_case(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    payload = {"AUTHORIZATION": f"Bearer {graph.admin()}"}
    async with live_client(server.graphql_url, payload) as client:
        operation = await client.subscribe(CHANGED)
        await registered()
        await change(server, graph.admin(), graph.my_payments[0], "any case")
        assert (await client.next(operation))["payload"]["data"]["paymentChanged"]


async def test_the_socket_closes_when_its_token_expires(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    async with live_client(server.graphql_url, bearer(graph.admin(ttl=2))) as client:
        await client.subscribe(CHANGED)
        assert await client.closed(timeout=6) == (4401, "Token expired")


async def test_the_server_pings_its_connections(server: RunningServer, engine: AsyncEngine) -> None:
    graph = await partners(engine)
    async with live_client(server.graphql_url, bearer(graph.admin())) as client:
        assert (await client.raw())["type"] == "ping"
        await client.send({"type": "pong"})
        assert (await client.raw())["type"] == "ping"


@pytest.fixture(scope="module")
def short_lived_server(database_url: str) -> Iterator[RunningServer]:
    environment = {"PAYGRAPH_SUBSCRIPTION_MAX_LIFETIME": "2"}
    with running_server(database_url, env=environment) as running:
        yield running


async def test_a_connection_closes_at_the_end_of_its_lifetime(
    short_lived_server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    async with live_client(short_lived_server.graphql_url, bearer(graph.admin())) as client:
        await client.subscribe(CHANGED)
        assert await client.closed(timeout=10) == (1001, "Connection lifetime reached")


async def test_subscriptions_per_connection_and_connections_per_credential_are_capped(
    server: RunningServer, engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    payload = bearer(graph.admin())
    async with (
        live_client(server.graphql_url, payload) as first,
        live_client(server.graphql_url, payload),
        live_client(server.graphql_url, payload),
        live_client(server.graphql_url) as fourth,
    ):
        for _ in range(3):
            await first.subscribe(CHANGED)
        refused = await first.next(await first.subscribe(CHANGED))
        await fourth.send({"type": "connection_init", "payload": payload})
        closed = await fourth.closed()
    assert refused["type"] == "error"
    assert refused["payload"][0]["message"] == "Subscription limit reached"
    assert closed == (4429, "Too many connections for this credential")
    # A connection closed gives its place back.
    async with live_client(server.graphql_url, payload) as again:
        assert again is not None


@pytest.fixture(scope="module", params=["postgres", "redis"])
def instances(request: pytest.FixtureRequest, database_url: str) -> Iterator[list[RunningServer]]:
    """Two server processes over one database, fanning changes out through PostgreSQL's
    LISTEN/NOTIFY or through Redis pub/sub."""
    environment = {"PAYGRAPH_SUBSCRIPTIONS_BROKER": request.param}
    if request.param == "redis":
        environment |= {
            "PAYGRAPH_REDIS_URL": redis_url(),
            "PAYGRAPH_SUBSCRIPTIONS_REDIS_CHANNEL": REDIS_CHANNEL,
        }
    with (
        running_server(database_url, env=environment) as first,
        running_server(database_url, env=environment) as second,
    ):
        yield [first, second]


@ON_POSTGRESQL
async def test_a_change_made_through_one_instance_reaches_subscribers_of_every_instance(
    instances: list[RunningServer], engine: AsyncEngine
) -> None:
    graph = await partners(engine)
    admin = graph.admin()
    a, b = instances
    async with (
        live_client(a.graphql_url, bearer(admin)) as on_a,
        live_client(b.graphql_url, bearer(graph.partner_user())) as on_b,
    ):
        on_a_operation = await on_a.subscribe(CHANGED)
        on_b_operation = await on_b.subscribe(CHANGED)
        await registered()

        await change(b, admin, graph.my_payments[0], "through b")
        await change(a, admin, graph.my_payments[1], "through a")
        await change(a, admin, graph.their_payments[0], "not the partner user's")

        seen_on_a = [await on_a.next(on_a_operation) for _ in range(3)]
        seen_on_b = [await on_b.next(on_b_operation) for _ in range(2)]
        assert await on_b.nothing_within(0.5)

    def descriptions(messages: list[dict[str, Any]]) -> list[str]:
        return [m["payload"]["data"]["paymentChanged"]["description"] for m in messages]

    assert descriptions(seen_on_a) == ["through b", "through a", "not the partner user's"]
    assert descriptions(seen_on_b) == ["through b", "through a"]


@pytest.fixture(scope="module")
def small_queue_server(database_url: str) -> Iterator[RunningServer]:
    """A server that lets a subscription fall one change behind, no more."""
    with running_server(database_url, env={"PAYGRAPH_SUBSCRIPTION_QUEUE": "1"}) as running:
        yield running


async def test_a_slow_consumer_is_dropped_rather_than_buffered(
    small_queue_server: RunningServer, engine: AsyncEngine
) -> None:
    # given a subscriber of 20 subscriptions each selecting some 30 kB per delivery, and
    # reading nothing
    graph = await partners(engine, payments=30)
    admin = graph.admin()
    selection = " ".join(f"d{n}: description" for n in range(15))
    heavy = f"subscription {{ paymentChanged {{ {selection} }} }}"
    async with read_slowly(small_queue_server.graphql_url, bearer(admin)) as client:
        for _ in range(20):
            await client.subscribe(heavy)
        await registered()

        # when 30 payments change at once, faster than 20 subscriptions can deliver them
        await asyncio.gather(
            *(
                change(small_queue_server, admin, payment, f"{n:04d}" * 500)
                for n, payment in enumerate(graph.my_payments)
            )
        )

        # then the server closes the connection, after what it had already sent
        assert await client.closed(timeout=30) == (4008, "Slow consumer")


async def test_a_partner_and_a_manager_each_receive_exactly_their_rows_of_200_changes(
    server: RunningServer, engine: AsyncEngine
) -> None:
    # given a reseller tree top -> own -> child and top -> sibling, three invoice payments
    # each, a partner user of `child`, a manager of `own`, and a stranger in another tenant
    f = Factory(engine)
    tenant = await f.tenant()
    admin_id = await f.user(tenant)
    top = await f.partner(tenant)
    own = await f.partner(tenant, parent_id=top)
    child = await f.partner(tenant, parent_id=own)
    sibling = await f.partner(tenant, parent_id=top)
    child_user = await f.user(tenant, role="partner", partner_id=child)
    invoice = await f.invoice(tenant)
    owner: dict[int, int] = {}
    for partner in (top, own, child, sibling):
        for _ in range(3):
            owner[await f.payment(tenant, partner_id=partner, invoice_id=invoice)] = partner
    admin = mint_token(
        SETTINGS, tenant_id=tenant, user_id=admin_id, permissions=[VIEW_PAYMENTS, MANAGE_PAYMENTS]
    )
    partner_user = mint_token(
        SETTINGS, tenant_id=tenant, user_id=child_user, permissions=[VIEW_PAYMENTS],
        partner_id=child,
    )  # fmt: skip
    manager = create_manager(server, tenant, own)
    stranger = (await partners(engine)).admin()
    picks = random.Random(20).choices(sorted(owner), k=200)

    async with (
        live_client(server.graphql_url, bearer(partner_user)) as partner_client,
        live_client(server.graphql_url, {"x-api-token": manager}) as manager_client,
        live_client(server.graphql_url, bearer(stranger)) as stranger_client,
    ):
        operations = [
            await c.subscribe(CHANGED) for c in (partner_client, manager_client, stranger_client)
        ]
        await registered()

        # when 200 random changes are made, one after another
        for n, payment in enumerate(picks):
            await change(server, admin, payment, f"change {n}")

        # then each receives exactly the changes of the payments its scope shows it, in order
        def expected(partners: set[int]) -> list[tuple[int, str]]:
            return [(p, f"change {n}") for n, p in enumerate(picks) if owner[p] in partners]

        async def received(client: LiveClient, operation: str, count: int) -> list[Any]:
            found = []
            for _ in range(count):
                payment = (await client.next(operation))["payload"]["data"]["paymentChanged"]
                found.append((payment["databaseId"], payment["description"]))
            assert await client.nothing_within(0.3)
            return found

        mine = expected({child})
        managed = expected({own, child})
        assert await received(partner_client, operations[0], len(mine)) == mine
        assert await received(manager_client, operations[1], len(managed)) == managed
        assert await stranger_client.nothing_within(0.1)
