"""Idempotency keys in their own short transactions: a claim commits before the work
starts, so a second request with the key sees it in flight; completing a key happens in
the work's own transaction (db.unit_of_work)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import models as m
from db.models.base import table_of
from domain.idempotency import KeyClaim, KeyRequest, StoredKey, Verdict, verdict
from domain.statuses import IdempotencyStatus

KEYS = table_of(m.IdempotencyKey)


class SqlIdempotencyKeys:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"

    async def claim(self, request: KeyRequest) -> KeyClaim:
        async with self._engine.begin() as connection:
            key_id = await self._insert(connection, request)
            if key_id is not None:
                return KeyClaim(key_id, locked_until=request.lease_until)
            existing = await self._existing(connection, request)
            if verdict(existing, request) is Verdict.REPLAY:
                return KeyClaim(None, existing.response)
            await connection.execute(
                update(KEYS).where(KEYS.c.id == existing.id).values(**self._fresh(request))
            )
            return KeyClaim(existing.id, locked_until=request.lease_until)

    async def release(self, claim: KeyClaim) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(delete(KEYS).where(*_still_held(claim)))

    async def unlock(self, claim: KeyClaim) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(
                update(KEYS).where(*_still_held(claim)).values(locked_until=None)
            )

    def _fresh(self, request: KeyRequest) -> dict[str, object]:
        return {
            "operation": request.operation,
            "request_hash": request.request_hash,
            "status": IdempotencyStatus.IN_FLIGHT.value,
            "response": None,
            "locked_until": request.lease_until,
            "created_at": request.now,
            "expires_at": request.expires_at,
        }

    async def _insert(self, connection: AsyncConnection, request: KeyRequest) -> int | None:
        dialect_insert = postgresql.insert if self._postgres else sqlite.insert
        statement = (
            dialect_insert(KEYS)
            .values(tenant_id=request.tenant_id, key=request.key, **self._fresh(request))
            .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
            .returning(KEYS.c.id)
        )
        inserted = (await connection.execute(statement)).scalar_one_or_none()
        return None if inserted is None else int(inserted)

    async def _existing(self, connection: AsyncConnection, request: KeyRequest) -> StoredKey:
        statement = select(
            KEYS.c.id,
            KEYS.c.request_hash,
            KEYS.c.status,
            KEYS.c.response,
            KEYS.c.locked_until,
            KEYS.c.expires_at,
        ).where(KEYS.c.tenant_id == request.tenant_id, KEYS.c.key == request.key)
        if self._postgres:
            statement = statement.with_for_update()
        row = (await connection.execute(statement)).one()
        return StoredKey(
            id=row.id,
            request_hash=row.request_hash,
            status=IdempotencyStatus(row.status),
            response=row.response,
            locked_until=row.locked_until,
            expires_at=row.expires_at,
        )


def _still_held(claim: KeyClaim) -> tuple[ColumnElement[bool], ...]:
    """The claim's key, still in flight under the claim's own lease (not taken over)."""
    return (
        KEYS.c.id == claim.key_id,
        KEYS.c.status == IdempotencyStatus.IN_FLIGHT.value,
        KEYS.c.locked_until == claim.locked_until,
    )
