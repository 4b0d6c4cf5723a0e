"""A job the server runs in the background while it serves (the reseller expiry, the
payout reconcile): every `interval` seconds; a run that fails is logged and the job runs
again after the interval; leaving the context cancels it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

Job = Callable[[], Awaitable[None]]


@contextlib.asynccontextmanager
async def running_every(
    interval: float, job: Job, *, name: str, label: str, logger: logging.Logger
) -> AsyncIterator[None]:
    """Run `job` every `interval` seconds (0 or less: never) while the context lasts;
    `name` names its task, `label` the job in `logger`'s record of a failed run."""
    if interval <= 0:
        yield
        return
    async with running_task(_forever(interval, job, label, logger), name=name):
        yield


@contextlib.asynccontextmanager
async def running_task(work: Coroutine[Any, Any, None], *, name: str) -> AsyncIterator[None]:
    """`work` as a task named `name` while the context lasts; leaving cancels it and waits
    for it to end."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _forever(interval: float, job: Job, label: str, logger: logging.Logger) -> None:
    while True:
        try:
            await job()
        except Exception:
            logger.exception("%s failed; it runs again in %s s", label, interval)
        await asyncio.sleep(interval)
