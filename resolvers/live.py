"""The subscriptions behind `paymentChanged` and `paymentEvents`. A change heard from the
broker names a payment only; each delivery reads it again through loaders of the
subscriber's scope (its ReadScope: tenant, partner or reseller tree, kinds), with the
filter the `payments` list uses, so a subscriber receives exactly what the same query
would show it, and nothing from the raw event. Subscriptions of one process with the
same scope and filter share that read of a change (the payment as it is after the
change's commit); each then resolves its own selection through its own loaders."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from domain import entities as e
from domain import read_catalog as catalog
from domain.access import ReadScope
from domain.errors import NotFound
from domain.filtering import Filter, all_of
from domain.listings import LISTINGS
from domain.payment_changes import HeardChange, PaymentFeed
from resolvers import lists, nodes

if TYPE_CHECKING:
    from resolvers.context import Context

T = TypeVar("T")

# The newest events of a payment read per delivery of `paymentEvents`; a payment gains
# one or two per change.
EVENTS_READ = 50


def payment_where(data: object) -> Filter | None:
    """A `paymentChanged` filter, checked as the `payments` list checks its own."""
    return lists.where_of(LISTINGS["Payment"], data)  # type: ignore[arg-type]


async def changed_payments(context: Context, where: Filter | None) -> AsyncIterator[e.Payment]:
    """Each payment of the caller's tenant that changes from now on, as the caller may
    see it and if it matches `where`."""
    scope = ReadScope.of(context.principal)
    async with _feed(context).follow(context.principal.tenant_id) as changes:
        async for heard in changes:
            _renew(context)
            read = partial(_visible_payment_apart, context, heard.change.payment_id, where)
            payment = await _once(heard, ("payment", scope, where), read)
            if payment is not None:
                yield payment


async def payment_events(context: Context, given_id: str) -> AsyncIterator[e.PaymentEvent]:
    """The audit events a visible payment gains from now on, oldest first."""
    payment_id = nodes.row_id("Payment", given_id, field="paymentId")
    # Followed before the trail is read, so that no change falls between the two.
    async with _feed(context).follow(context.principal.tenant_id) as changes:
        trail = await _newest_events(context, payment_id)
        if trail is None:
            raise NotFound(f"No Payment has the ID {given_id!r}.", field="paymentId")
        seen = max((event.id for event in trail), default=0)
        async for heard in changes:
            if heard.change.payment_id != payment_id:
                continue
            _renew(context)
            trail = await _newest_events(context, payment_id)
            for event in sorted(trail or (), key=lambda event: event.id):
                if event.id > seen:
                    seen = event.id
                    yield event


def _feed(context: Context) -> PaymentFeed:
    if context.live is None:
        raise RuntimeError("subscriptions are served over websockets only")
    return context.live


async def _once(heard: HeardChange, key: Hashable, read: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """What `read()` answers, read once per change for every subscription asking with
    `key`. The read runs as a task of its own: a subscription that goes meanwhile does
    not cancel it for the others."""
    shared: asyncio.Task[T] | None = heard.shared.get(key)
    if shared is None:
        shared = heard.shared[key] = asyncio.create_task(read())
    return await asyncio.shield(shared)


async def _visible_payment_apart(
    context: Context, payment_id: int, where: Filter | None
) -> e.Payment | None:
    """_visible_payment through loaders of the context's scope that no subscription
    holds: a read shared by several outlives the one that started it (its connection may
    close, and its loaders with it)."""
    assert context.fresh_loaders is not None
    apart = dataclasses.replace(context, loaders=context.fresh_loaders(), list_requests={})
    return await _visible_payment(apart, payment_id, where)


def _renew(context: Context) -> None:
    """Fresh loaders for a delivery: the last one's kept what they read."""
    assert context.fresh_loaders is not None
    context.loaders = context.fresh_loaders()
    context.list_requests.clear()


async def _visible_payment(
    context: Context, payment_id: int, where: Filter | None
) -> e.Payment | None:
    listing = LISTINGS["Payment"]
    this_one = lists.where_of(listing, {"id": {"eq": str(payment_id)}})
    request = lists.list_request(listing, where=all_of(this_one, where), first=1)
    page, _ = await lists.load(context, catalog.PAYMENTS, None, request)
    return page.items[0] if page.items else None


async def _newest_events(context: Context, payment_id: int) -> list[e.PaymentEvent] | None:
    """The payment's newest events, or None when the caller cannot see the payment."""
    if await _visible_payment(context, payment_id, None) is None:
        return None
    listing = LISTINGS["PaymentEvent"]
    newest_first = lists.ordering(listing, [("id", True)])
    request = lists.list_request(listing, order=newest_first, first=EVENTS_READ)
    page, _ = await lists.load(context, catalog.EVENTS_OF_PAYMENT, payment_id, request)
    return list(page.items)
