"""The process's subscribers to payment changes. A broker (gateway.change_brokers) hands
every change it hears to the hub; the hub offers it to each subscription of the change's
tenant through that subscription's bounded queue. A subscription whose queue is full is a
slow consumer: its connection is told (`overflowed`) and drops, instead of the process
buffering changes for it without bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable

from domain.payment_changes import HeardChange, PaymentChange


class _Follower:
    def __init__(self, size: int, overflowed: Callable[[], None]) -> None:
        self.queue: asyncio.Queue[HeardChange] = asyncio.Queue(size)
        self.overflowed = overflowed

    def offer(self, change: HeardChange) -> None:
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.overflowed()

    async def changes(self) -> AsyncIterator[HeardChange]:
        while True:
            yield await self.queue.get()


class LiveHub:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._followers: defaultdict[int, set[_Follower]] = defaultdict(set)

    def deliver(self, change: PaymentChange) -> None:
        """Offer `change` to every subscription of its tenant (never waits), as one
        HeardChange: what they read for it alike, they read once."""
        heard = HeardChange(change)
        for follower in tuple(self._followers.get(change.tenant_id, ())):
            follower.offer(heard)

    @property
    def followers(self) -> int:
        return sum(len(group) for group in self._followers.values())

    def feed(self, overflowed: Callable[[], None]) -> ConnectionFeed:
        """The feed of one connection; `overflowed` is called when one of its
        subscriptions falls a whole queue behind."""
        return ConnectionFeed(self, overflowed)

    @contextlib.asynccontextmanager
    async def _following(
        self, tenant_id: int, overflowed: Callable[[], None]
    ) -> AsyncIterator[AsyncIterator[HeardChange]]:
        follower = _Follower(self.queue_size, overflowed)
        group = self._followers[tenant_id]
        group.add(follower)
        try:
            yield follower.changes()
        finally:
            group.discard(follower)
            if not group:
                self._followers.pop(tenant_id, None)


class ConnectionFeed:
    """domain.payment_changes.PaymentFeed for one connection."""

    def __init__(self, hub: LiveHub, overflowed: Callable[[], None]) -> None:
        self._hub = hub
        self._overflowed = overflowed

    def follow(
        self, tenant_id: int
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[HeardChange]]:
        return self._hub._following(tenant_id, self._overflowed)
