"""Brokers carrying payment changes from the instance that committed them to every
gateway instance's hub (gateway.live_hub). Each process holds one listener: one
dedicated PostgreSQL connection (never a pooled one) or one Redis pub/sub connection,
whatever the number of its subscribers.

- `postgres`: `pg_notify` in the writing transaction (db.payment_changes), LISTEN here;
- `redis`: PUBLISH after the commit, SUBSCRIBE here;
- `memory`: this process's own changes only (the embedded SQLite default).

A listener that loses its connection logs it and connects again; changes committed
meanwhile are not replayed (a subscriber that must not miss one reads the payment or its
events again after reconnecting)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

from db.payment_changes import CHANNEL, ChangeAnnouncer, NotifyInTransaction
from domain.payment_changes import PaymentChange
from gateway.background_job import running_task
from gateway.live_hub import LiveHub
from gateway.subscription_settings import SubscriptionSettings

logger = logging.getLogger("paygraph.subscriptions")

RECONNECT_SECONDS = 1.0


class ChangeBroker(Protocol):
    announcer: ChangeAnnouncer

    def listening(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The process's one listener, for the app's lifetime."""
        ...


class _AnnouncedAfterCommit:
    """A broker that announces changes itself once they are committed (nothing goes into
    the transaction)."""

    async def in_transaction(
        self, connection: AsyncConnection, changes: Sequence[PaymentChange]
    ) -> None:
        return None


class MemoryBroker(_AnnouncedAfterCommit):
    """The changes this process commits, handed to its own hub after the commit."""

    def __init__(self, hub: LiveHub) -> None:
        self._hub = hub
        self.announcer: ChangeAnnouncer = self

    async def committed(self, changes: Sequence[PaymentChange]) -> None:
        for change in changes:
            self._hub.deliver(change)

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        yield


class PostgresBroker:
    """LISTEN on one connection of its own (asyncpg, outside every pool)."""

    def __init__(self, hub: LiveHub, url: URL) -> None:
        self._hub = hub
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.announcer: ChangeAnnouncer = NotifyInTransaction()
        self.ready = asyncio.Event()

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        change = PaymentChange.decode(payload)
        if change is not None:
            self._hub.deliver(change)

    async def _listen(self) -> None:
        while True:
            await self._listen_once()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_once(self) -> None:
        """LISTEN until the connection is lost."""
        import asyncpg

        lost = asyncio.Event()
        try:
            connection = await asyncpg.connect(self._dsn)
        except (OSError, asyncpg.PostgresError) as error:
            logger.warning("subscriptions: cannot LISTEN (%s); trying again", error)
            return
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(CHANNEL, self._heard)
            self.ready.set()
            await lost.wait()
            logger.warning("subscriptions: the LISTEN connection was lost; reconnecting")
        finally:
            self.ready.clear()
            with contextlib.suppress(Exception):
                await asyncio.shield(connection.close(timeout=2))

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        async with running_task(self._listen(), name="paygraph-listen"):
            yield


class RedisBroker(_AnnouncedAfterCommit):
    """PUBLISH after the commit; SUBSCRIBE on one pub/sub connection."""

    def __init__(self, hub: LiveHub, url: str, channel: str) -> None:
        from redis.asyncio import Redis

        self._hub = hub
        self._redis = Redis.from_url(url, decode_responses=True)
        self._channel = channel
        self.announcer: ChangeAnnouncer = self

    async def committed(self, changes: Sequence[PaymentChange]) -> None:
        from redis.exceptions import RedisError

        try:
            for change in changes:
                await self._redis.publish(self._channel, change.encode())
        except (RedisError, OSError) as error:
            # The change is committed; only its live delivery is lost.
            logger.warning("subscriptions: cannot publish to Redis (%s)", error)

    async def _listen(self) -> None:
        from redis.exceptions import RedisError

        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                async for message in pubsub.listen():
                    change = PaymentChange.decode(str(message.get("data", "")))
                    if change is not None:
                        self._hub.deliver(change)
            except (RedisError, OSError) as error:
                logger.warning("subscriptions: Redis SUBSCRIBE failed (%s); reconnecting", error)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(RECONNECT_SECONDS)

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        try:
            async with running_task(self._listen(), name="paygraph-subscribe"):
                yield
        finally:
            await self._redis.aclose()


def change_broker(
    settings: SubscriptionSettings, hub: LiveHub, database_url: URL, redis_url: str | None
) -> ChangeBroker:
    """The broker PAYGRAPH_SUBSCRIPTIONS_BROKER names (gateway.subscription_settings)."""
    if settings.broker == "postgres":
        return PostgresBroker(hub, database_url)
    if settings.broker == "redis":
        assert redis_url is not None
        return RedisBroker(hub, redis_url, settings.redis_channel)
    return MemoryBroker(hub)
