"""Throttle buckets in Redis, shared by every gateway instance: one hash per credential
(`available`, `at`), changed by one Lua script (EVALSHA, EVAL when Redis lost it) that
refills, draws and sets the key's TTL atomically, on Redis's own clock, so instances
whose clocks differ still agree. A bucket left alone until full simply expires.

When Redis cannot be reached the gateway fails open, not closed: each instance throttles
with buckets of its own (domain.throttle.MemoryBuckets) and logs a warning, and tries
Redis again after `RETRY_SECONDS`. The per-operation cost limit still holds, and an
outage of the throttle's store must not become an outage of every payment read; the
price is that, meanwhile, a caller's budget is that of one bucket per instance.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from domain.throttle import BucketLimits, BucketStore, Draw, MemoryBuckets
from gateway.cost_settings import CostSettings

if TYPE_CHECKING:  # the client is imported only when PAYGRAPH_REDIS_URL is set
    from redis.asyncio import Redis

logger = logging.getLogger("paygraph.throttle")

RETRY_SECONDS = 5.0
SOCKET_TIMEOUT = 0.5  # seconds; a request must not wait long on its throttle

# domain.throttle.leaked, in Lua. KEYS[1]: the bucket; ARGV: maximum, restore rate, points.
DRAW = """
local maximum = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'available', 'at')
local available = tonumber(state[1]) or maximum
local at = tonumber(state[2]) or now
local filled = math.min(maximum, available + math.max(now - at, 0) * rate)
local allowed, left, wait = 0, filled, 0
if points <= filled then
  allowed = 1
  left = math.min(maximum, filled - points)
else
  wait = (points - filled) / rate
end
redis.call('HSET', KEYS[1], 'available', tostring(left), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(maximum / rate * 1000) + 1000)
return {allowed, tostring(left), tostring(wait)}
"""


class RedisBuckets:
    def __init__(self, redis: Redis, prefix: str, fallback: BucketStore | None = None) -> None:
        from redis.exceptions import RedisError

        self.redis = redis
        self.unreachable = (RedisError, OSError)
        self.prefix = prefix
        self.script = redis.register_script(DRAW)
        self.fallback = fallback or MemoryBuckets()
        self._down_until = 0.0

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisBuckets:
        from redis.asyncio import Redis

        redis = Redis.from_url(
            url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT
        )
        return cls(redis, prefix)

    async def draw(self, key: str, points: float, limits: BucketLimits) -> Draw:
        if time.monotonic() < self._down_until:
            return await self.fallback.draw(key, points, limits)
        try:
            answer: Any = await self.script(
                keys=[self.prefix + key], args=[limits.maximum, limits.restore_rate, points]
            )
        except self.unreachable as error:
            if self._down_until == 0.0:
                logger.warning(
                    "throttle: Redis is unreachable (%s); each instance throttles on its "
                    "own until it answers again",
                    error,
                )
            self._down_until = time.monotonic() + RETRY_SECONDS
            return await self.fallback.draw(key, points, limits)
        if self._down_until:
            logger.warning("throttle: Redis answers again; buckets are shared once more")
            self._down_until = 0.0
        allowed, available, wait = answer
        return Draw(bool(int(allowed)), float(available), float(wait))

    async def close(self) -> None:
        await self.redis.aclose()
        await self.fallback.close()


def bucket_store(settings: CostSettings) -> BucketStore:
    """Redis when PAYGRAPH_REDIS_URL is set, else this process's memory."""
    if settings.redis_url is None:
        return MemoryBuckets()
    return RedisBuckets.from_url(settings.redis_url, settings.redis_prefix)
