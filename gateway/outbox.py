"""The outbox's delivery side: claim due notifications, send each, record the outcome.

Mutations write outbox rows in the transaction of the change they announce; this
dispatcher delivers them after commit, at least once. Several dispatchers (every
`paygraph serve` and any `paygraph outbox run`) may share one database: a claim leases
its rows (db.outbox_store), and no transaction stays open while a message is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.outbox_store import Claim, ClaimedRow, OutboxStore
from gateway.notifiers import InvalidNotification, Notifier, notifiers_from
from gateway.outbox_settings import OutboxSettings, OutboxSettingsError

__all__ = [
    "DispatchReport",
    "OutboxDispatcher",
    "OutboxSettings",
    "OutboxSettingsError",
    "dispatcher_running",
]

logger = logging.getLogger("paygraph.outbox")
# Only while this much of the lease is left is another row sent: the send, then the write
# of its outcome, must finish before the lease ends.
SEND_TIMEOUTS_LEFT = 2
SHUTDOWN_GRACE_SECONDS = 5.0
MAX_IDLE_DOUBLINGS = 6  # after repeated failures, poll at most 64 times more slowly


@dataclass(frozen=True)
class DispatchReport:
    """What one run did: rows delivered, rows to be tried again, rows dead-lettered."""

    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.dead

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            self.delivered + other.delivered, self.retried + other.retried, self.dead + other.dead
        )


@dataclass(frozen=True)
class _Failure:
    error: str
    permanent: bool


class OutboxDispatcher:
    """Delivers due outbox rows through one notifier per channel."""

    def __init__(
        self, engine: AsyncEngine, settings: OutboxSettings, *, slack: Notifier, mail: Notifier
    ) -> None:
        self._store = OutboxStore(engine)
        self._settings = settings
        self._notifiers: dict[str, Notifier] = {"slack": slack, "email": mail}

    async def run_once(self) -> DispatchReport:
        """Claim one batch of due rows, oldest first, send each and record its outcome."""
        return await self._dispatch(stop=None)

    async def drain(self, stop: asyncio.Event | None = None) -> DispatchReport:
        """Run batches until one comes back short: every row due now has been tried."""
        total = DispatchReport()
        while stop is None or not stop.is_set():
            report = await self._dispatch(stop)
            total += report
            if report.handled < self._settings.batch_size:
                break
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Drain, wait a poll interval, repeat until `stop` is set. An error (the database
        is down, say) is logged and the loop goes on, polling more slowly meanwhile."""
        failures = 0
        while not stop.is_set():
            try:
                await self.drain(stop)
                failures = 0
            except Exception:
                failures += 1
                logger.exception("outbox dispatch failed (%d in a row)", failures)
            idle = self._settings.poll_interval * 2 ** min(failures, MAX_IDLE_DOUBLINGS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=idle)

    async def _dispatch(self, stop: asyncio.Event | None) -> DispatchReport:
        loop = asyncio.get_running_loop()
        # Measured before the claim, as the lease itself is.
        last_send_at = (
            loop.time() + self._settings.lease - SEND_TIMEOUTS_LEFT * self._settings.send_timeout
        )
        claim = await self._store.claim(
            limit=self._settings.batch_size, lease=timedelta(seconds=self._settings.lease)
        )
        report = DispatchReport()
        for index, row in enumerate(claim.rows):
            if (stop is not None and stop.is_set()) or loop.time() > last_send_at:
                await self._store.release(claim, claim.rows[index:])
                break
            report += await self._record(claim, row, await self._send(row))
        return report

    async def _send(self, row: ClaimedRow) -> _Failure | None:
        try:
            payload: Any = json.loads(row.payload)
            if not isinstance(payload, dict):
                raise InvalidNotification("the payload is not a JSON object")
            notifier = self._notifiers.get(row.channel)
            if notifier is None:
                # Retried, not dead at once: during a rolling deploy a newer instance may
                # write a channel this one does not know yet.
                return _Failure(f"no notifier for channel {row.channel!r}", permanent=False)
            async with asyncio.timeout(self._settings.send_timeout):
                await notifier.send(payload)
        except (InvalidNotification, json.JSONDecodeError) as error:
            return _Failure(f"invalid notification: {error}", permanent=True)
        except TimeoutError:
            return _Failure(f"no answer within {self._settings.send_timeout:g} s", permanent=False)
        except Exception as error:
            return _Failure(f"{type(error).__name__}: {error}", permanent=False)
        return None

    async def _record(
        self, claim: Claim, row: ClaimedRow, failure: _Failure | None
    ) -> DispatchReport:
        label = f"outbox row {row.id} ({row.channel} {row.topic}, tenant {row.tenant_id})"
        if failure is None:
            if await self._store.mark_delivered(claim, row):
                logger.debug("%s delivered", label)
                return DispatchReport(delivered=1)
            return self._lost(label)
        attempts = row.attempts + 1
        if failure.permanent or attempts >= self._settings.max_attempts:
            if await self._store.mark_failed(claim, row, failure.error, retry_in=None):
                logger.error("%s is dead after %d attempt(s): %s", label, attempts, failure.error)
                return DispatchReport(dead=1)
            return self._lost(label)
        delay = self._settings.backoff(attempts)
        if await self._store.mark_failed(claim, row, failure.error, retry_in=delay):
            logger.warning(
                "%s failed (attempt %d of %d), retrying in %g s: %s",
                label,
                attempts,
                self._settings.max_attempts,
                delay,
                failure.error,
            )
            return DispatchReport(retried=1)
        return self._lost(label)

    @staticmethod
    def _lost(label: str) -> DispatchReport:
        logger.warning("%s: lease ran out before its outcome was written", label)
        return DispatchReport()


@contextlib.asynccontextmanager
async def dispatcher_running(
    engine: AsyncEngine, settings: OutboxSettings
) -> AsyncIterator[OutboxDispatcher]:
    """Run a dispatcher in the background for the body's duration (a server's lifespan).
    On exit it finishes the message in flight, hands unsent rows back, and stops."""
    notifiers = notifiers_from(settings)
    dispatcher = OutboxDispatcher(engine, settings, slack=notifiers.slack, mail=notifiers.mail)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run_forever(stop), name="paygraph-outbox")
    logger.info("outbox dispatcher started: slack=%r, email=%r", notifiers.slack, notifiers.mail)
    try:
        yield dispatcher
    finally:
        stop.set()
        done, _ = await asyncio.wait({task}, timeout=settings.send_timeout + SHUTDOWN_GRACE_SECONDS)
        if not done:
            logger.warning("outbox dispatcher did not stop in time; cancelling it")
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
