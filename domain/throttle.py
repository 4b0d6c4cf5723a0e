"""The per-credential throttle: a leaky bucket of query-cost points (Shopify's model).

A bucket holds at most `maximum` points and gains `restore_rate` points a second. A
request takes its requested cost before it runs, or is refused when the bucket holds
less; once it has run, the difference between requested and actual cost is given back.

`BucketStore` is what the gateway keeps buckets in: `MemoryBuckets` here (one process),
or Redis (gateway/redis_buckets.py, shared by every instance), which runs the same
arithmetic as `leaked` in one Lua script.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from domain.principal import Credential, Principal


@dataclass(frozen=True, slots=True)
class BucketLimits:
    maximum: int  # points a full bucket holds
    restore_rate: float  # points regained per second


@dataclass(frozen=True, slots=True)
class Draw:
    """The answer to taking (or giving back) points: whether they were taken, what the
    bucket holds now, and, when refused, the seconds until it holds enough."""

    allowed: bool
    available: float
    retry_after: float = 0.0

    @property
    def points_left(self) -> int:
        """The whole points the bucket holds, as a caller is told them."""
        return math.floor(self.available)

    @property
    def retry_in(self) -> float:
        """`retry_after` as a refusal states it: rounded up to a hundredth of a second."""
        return math.ceil(self.retry_after * 100) / 100

    @property
    def retry_after_header(self) -> str:
        """The HTTP Retry-After value of a refusal: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))

    def throttled_message(self, cost: str) -> str:
        """The THROTTLED message; `cost` says what the request costs ("an export costs
        2000")."""
        return (
            f"Throttled: {cost} points and {self.points_left} are available; "
            f"retry in {self.retry_in:g} s."
        )


def leaked(
    available: float, elapsed: float, points: float, limits: BucketLimits
) -> tuple[float, Draw]:
    """The bucket after `elapsed` seconds of refill and a draw of `points` (negative:
    given back). A draw larger than what the bucket holds takes nothing."""
    filled = min(float(limits.maximum), available + max(elapsed, 0.0) * limits.restore_rate)
    if points <= filled:
        left = min(float(limits.maximum), filled - points)
        return left, Draw(True, left)
    wait = (points - filled) / limits.restore_rate if limits.restore_rate > 0 else math.inf
    return filled, Draw(False, filled, wait)


def credential_key(principal: Principal) -> str:
    """Whose bucket a request draws from: a manager's API token, or a JWT's tenant, user
    and partner (the same person on two devices shares one bucket)."""
    if principal.credential is Credential.API_TOKEN and principal.token_id is not None:
        return f"token:{principal.token_id}"
    parts = (principal.tenant_id, principal.user_id, principal.partner_id, principal.reseller_id)
    return f"{principal.credential.value}:" + ":".join("-" if p is None else str(p) for p in parts)


class BucketStore(Protocol):
    """Where buckets live; `draw` is atomic per key."""

    async def draw(self, key: str, points: float, limits: BucketLimits) -> Draw: ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """Buckets of this process only. A bucket left alone long enough to fill is
    forgotten, so the store holds only callers seen in the last `maximum / restore_rate`
    seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (available, at)
        self._draws = 0

    async def draw(self, key: str, points: float, limits: BucketLimits) -> Draw:
        now = self._clock()
        available, at = self._buckets.get(key, (float(limits.maximum), now))
        left, answer = leaked(available, now - at, points, limits)
        self._buckets[key] = (left, now)
        self._draws += 1
        if self._draws % 1024 == 0:
            self._forget_full(now, limits)
        return answer

    def _forget_full(self, now: float, limits: BucketLimits) -> None:
        if limits.restore_rate <= 0:
            return
        full = {
            key
            for key, (available, at) in self._buckets.items()
            if available + (now - at) * limits.restore_rate >= limits.maximum
        }
        for key in full:
            del self._buckets[key]

    async def close(self) -> None:
        self._buckets.clear()


@dataclass(frozen=True, slots=True)
class CallerBucket:
    """One caller's bucket, as a request sees it."""

    store: BucketStore
    key: str
    limits: BucketLimits

    async def take(self, points: int) -> Draw:
        """Take `points` (0: only look), or take nothing when the bucket holds fewer."""
        return await self.store.draw(self.key, points, self.limits)

    async def give_back(self, points: int) -> Draw:
        return await self.store.draw(self.key, -points, self.limits)


@dataclass(frozen=True, slots=True)
class Throttle:
    """The buckets of every caller: built once per app."""

    store: BucketStore
    limits: BucketLimits

    def bucket(self, principal: Principal) -> CallerBucket:
        return CallerBucket(self.store, credential_key(principal), self.limits)
