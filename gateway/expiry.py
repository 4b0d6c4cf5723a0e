"""The reseller payment expiry job inside the server: every interval, move payments past
their expiration date to EXPIRED (domain.reseller_payments). Several instances may run
it at once: each expiry is claimed by its own transition."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from domain.reseller_payments import ResellerPayments

logger = logging.getLogger("paygraph.expiry")


async def _expire_forever(payments: ResellerPayments, interval: float) -> None:
    while True:
        try:
            expired = await payments.expire_due()
            if expired:
                logger.info("expired %d reseller payments", expired)
        except Exception:
            logger.exception("the expiry job failed; it runs again in %s s", interval)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def expiry_running(payments: ResellerPayments, interval: float) -> AsyncIterator[None]:
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_expire_forever(payments, interval), name="paygraph-expiry")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
