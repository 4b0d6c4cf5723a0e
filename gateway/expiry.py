"""The reseller payment expiry job inside the server: every interval, move payments past
their expiration date to EXPIRED (domain.reseller_payments). Several instances may run
it at once: each expiry is claimed by its own transition."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from functools import partial

from domain.reseller_payments import ResellerPayments
from gateway.background_job import running_every

logger = logging.getLogger("paygraph.expiry")


async def _expire(payments: ResellerPayments) -> None:
    expired = await payments.expire_due()
    if expired:
        logger.info("expired %d reseller payments", expired)


def expiry_running(
    payments: ResellerPayments, interval: float
) -> AbstractAsyncContextManager[None]:
    return running_every(
        interval,
        partial(_expire, payments),
        name="paygraph-expiry",
        label="the expiry job",
        logger=logger,
    )
