"""Subscriptions of one process that would read a change alike read it once
(resolvers.live): the same scope and filter share one read; another filter reads for
itself. (That a shared read outlives the subscription that started it:
tests/unit/test_live_parts.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from domain import entities as e
from domain.payment_changes import PaymentChange
from domain.principal import Principal
from gateway.graphql_view import live_context
from gateway.live_hub import LiveHub
from resolvers import live
from resolvers.context import Context
from tests.factories import Factory
from tests.graphql import admin, count_statements


def subscriber(engine: AsyncEngine, hub: LiveHub, principal: Principal) -> Context:
    """A websocket connection's context, as the server makes it."""
    return live_context(engine, principal, hub.feed(lambda: None))


async def following(hub: LiveHub, subscriptions: list[AsyncIterator[e.Payment]]) -> list[Any]:
    """Each subscription waiting for its next payment, once all follow the hub."""
    waiting = [asyncio.ensure_future(anext(subscription)) for subscription in subscriptions]
    async with asyncio.timeout(5):
        while hub.followers < len(subscriptions):
            await asyncio.sleep(0)
    return waiting


async def test_subscriptions_with_one_scope_and_filter_read_a_change_once(
    engine: AsyncEngine,
) -> None:
    # given five subscriptions of one tenant's admin: three unfiltered, two filtered alike
    factory = Factory(engine)
    tenant = await factory.tenant()
    payment = await factory.payment(tenant)
    hub = LiveHub(queue_size=10)

    def subscription(where: Any) -> AsyncIterator[e.Payment]:
        return live.changed_payments(subscriber(engine, hub, admin(tenant)), where)

    unfiltered = [subscription(None) for _ in range(3)]
    filtered = [subscription(live.payment_where({"id": {"eq": str(payment)}})) for _ in range(2)]
    waiting = await following(hub, unfiltered + filtered)

    # when the payment changes
    with count_statements(engine) as counted:
        hub.deliver(PaymentChange(tenant, payment, "update"))
        async with asyncio.timeout(10):
            delivered = await asyncio.gather(*waiting)

    # then each receives it, through one read per scope and filter
    assert [found.id for found in delivered] == [payment] * 5
    assert len(counted.statements) == 2, counted.statements
    for subscription in unfiltered + filtered:
        await subscription.aclose()  # type: ignore[attr-defined]
