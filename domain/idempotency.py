"""Idempotency keys for money-moving mutations: the same key with the same input replays
the stored result; with a different input it is refused; while the first request runs,
others wait for it. Keys are scoped per tenant and kept at least 24 hours."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import BadUserInput, IdempotencyKeyInUse, IdempotencyKeyReused
from domain.statuses import IdempotencyStatus

MIN_RETENTION = timedelta(hours=24)
LEASE = timedelta(seconds=60)  # how long a request may run before another may take over
MAX_KEY_LENGTH = 255


def checked_key(key: str) -> str:
    """The key exactly as given: `"abc "` is not `"abc"`, so rather than trim it (and
    make two keys one), a key with leading or trailing whitespace is refused, as are
    control characters and keys over MAX_KEY_LENGTH."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadUserInput(
            f"The idempotency key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            field="idempotencyKey",
        )
    if key != key.strip():
        raise BadUserInput(
            "The idempotency key must not begin or end with whitespace.",
            field="idempotencyKey",
        )
    return key


def request_hash(operation: str, actor_id: int | None, arguments: Mapping[str, object]) -> str:
    """A fingerprint of what was asked and by whom: the same key sent by another user or
    for other input is a different request."""
    canonical = json.dumps(
        {"operation": operation, "actor": actor_id, "arguments": arguments},
        sort_keys=True,
        default=str,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyRequest:
    tenant_id: int
    key: str
    operation: str
    request_hash: str
    now: datetime
    retention: timedelta = MIN_RETENTION

    @property
    def lease_until(self) -> datetime:
        return self.now + LEASE

    @property
    def expires_at(self) -> datetime:
        return self.now + max(self.retention, MIN_RETENTION)


@dataclass(frozen=True, slots=True)
class StoredKey:
    id: int
    request_hash: str
    status: IdempotencyStatus
    response: str | None
    locked_until: datetime | None
    expires_at: datetime


class Verdict(StrEnum):
    REPLAY = "replay"
    TAKE_OVER = "take_over"  # expired, or a request that died while in flight


def verdict(existing: StoredKey, request: KeyRequest) -> Verdict:
    """What to do with a key that is already stored; raises when the request must stop."""
    if existing.expires_at <= request.now:
        return Verdict.TAKE_OVER
    if existing.request_hash != request.request_hash:
        raise IdempotencyKeyReused(
            "This idempotency key was already used for a different request.",
            field="idempotencyKey",
        )
    if existing.status is IdempotencyStatus.COMPLETED:
        return Verdict.REPLAY
    if existing.locked_until is not None and existing.locked_until > request.now:
        raise IdempotencyKeyInUse(
            "A request with this idempotency key is still running; retry shortly.",
            field="idempotencyKey",
        )
    return Verdict.TAKE_OVER


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """A fresh claim (`key_id` to complete in the transaction) or a stored `response`."""

    key_id: int | None
    response: str | None = None
    locked_until: datetime | None = None  # the claim's lease, which also identifies it
