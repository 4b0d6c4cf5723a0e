"""A signed token proves who issued it, not that what it names exists: its user must be
a user of its tenant, and its partner (if any) a partner of that tenant, or the request
is refused at authentication. Confirmations are kept for a short while, so a dashboard
sending request after request with one token pays one statement every TTL seconds, not
one per request."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from domain.errors import Unauthenticated
from domain.principal import Principal

# How long a confirmed (tenant, user, partner) is believed without asking again: a user
# removed from the database keeps working with an unexpired token for at most this long.
CONFIRMED_FOR_SECONDS = 30.0
CONFIRMED_AT_MOST = 10_000  # distinct principals kept; the oldest are dropped first

UserLookup = Callable[[int, int, int | None], Awaitable[bool]]
Key = tuple[int, int, int | None]


class KnownPrincipals:
    """Refuses a JWT principal whose user, tenant or partner does not exist or does not
    belong together (`check`), with one lookup per principal per TTL."""

    def __init__(
        self,
        lookup: UserLookup,
        *,
        ttl: float = CONFIRMED_FOR_SECONDS,
        capacity: int = CONFIRMED_AT_MOST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._confirmed: OrderedDict[Key, float] = OrderedDict()

    async def check(self, principal: Principal) -> None:
        if principal.user_id is None:
            raise Unauthenticated("Invalid token: it names no user.")
        key = (principal.tenant_id, principal.user_id, principal.partner_id)
        now = self._clock()
        confirmed_at = self._confirmed.get(key)
        if confirmed_at is not None and now - confirmed_at < self._ttl:
            return
        # The same answer for every way of not matching: which ids exist in other
        # tenants is none of the caller's business.
        if not await self._lookup(*key):
            self._confirmed.pop(key, None)
            raise Unauthenticated("Invalid token: its user, tenant or partner is unknown.")
        self._confirmed[key] = now
        self._confirmed.move_to_end(key)
        while len(self._confirmed) > self._capacity:
            self._confirmed.popitem(last=False)
