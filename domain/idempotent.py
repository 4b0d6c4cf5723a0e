"""Running a money-moving mutation once per idempotency key: claim the key (in its own
short transaction), run the mutation, which completes the key in its own transaction,
and release the claim if it failed. A completed key replays the payment it produced.
Work that started but finishes later (a payout waiting on its provider) keeps its key in
flight, unlocked, so a retry with the key takes over at once and finishes that work."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import entities as e
from domain.errors import DomainError
from domain.idempotency import MIN_RETENTION, KeyClaim, KeyRequest, checked_key, request_hash
from domain.principal import Principal
from domain.writes import IdempotencyKeys

logger = logging.getLogger("paygraph.idempotency")


@dataclass(frozen=True, slots=True)
class Settled:
    """The result of an idempotent mutation: the payment, and whether it was replayed."""

    payment: e.Payment
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Unfinished:
    """What a run returns when its work started and will be finished later: `error` is
    what the caller hears; the key stays in flight but unlocked."""

    error: DomainError


def key_response(payment: e.Payment) -> str:
    """What a completed key stores: enough to find the payment again."""
    return json.dumps({"paymentId": payment.id, "status": payment.status.value})


class IdempotentRuns:
    def __init__(
        self,
        keys: IdempotencyKeys,
        *,
        clock: Callable[[], datetime],
        retention: timedelta = MIN_RETENTION,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._retention = retention

    async def run(
        self,
        principal: Principal,
        operation: str,
        idempotency_key: str,
        arguments: Mapping[str, object],
        run: Callable[[int], Awaitable[e.Payment | Unfinished]],
        replay: Callable[[int], Awaitable[e.Payment]],
    ) -> Settled:
        """`run(key_id)` does the work and completes the key in its transaction, or
        returns Unfinished; `replay(payment_id)` reads back what an earlier run
        produced."""
        request = KeyRequest(
            tenant_id=principal.tenant_id,
            key=checked_key(idempotency_key),
            operation=operation,
            request_hash=request_hash(operation, principal.user_id, arguments),
            now=self._clock(),
            retention=self._retention,
        )
        claim = await self._keys.claim(request)
        if claim.response is not None:
            payment_id = int(json.loads(claim.response)["paymentId"])
            return Settled(await replay(payment_id), replayed=True)
        assert claim.key_id is not None
        try:
            payment = await run(claim.key_id)
        except BaseException:
            await self._release(claim)
            raise
        if isinstance(payment, Unfinished):
            await self._unlock(claim)
            raise payment.error
        return Settled(payment)

    async def _unlock(self, claim: KeyClaim) -> None:
        try:
            await self._keys.unlock(claim)
        except Exception:
            # The claim's lease runs out on its own; a retry can take it over then.
            logger.exception("could not unlock idempotency key %s", claim.key_id)

    async def _release(self, claim: KeyClaim) -> None:
        try:
            await self._keys.release(claim)
        except Exception:
            # The claim's lease runs out on its own; a retry can take it over then.
            logger.exception("could not release idempotency key %s", claim.key_id)
