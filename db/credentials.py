"""Manager API tokens in the database: issue one, and turn a presented one into a
Principal whose reseller tree is read from the partner table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db import models as m
from db.models.base import table_of
from domain.api_tokens import SHOWN_PREFIX_LENGTH, api_token_sha256, new_api_token
from domain.principal import Credential, Principal
from domain.statuses import PartnerKind, UserRole

API_TOKEN = table_of(m.ApiToken)
PARTNER = table_of(m.Partner)
USER = table_of(m.User)


async def issue_api_token(
    connection: AsyncConnection,
    *,
    tenant_id: int,
    user_id: int,
    reseller_id: int,
    permissions: Iterable[str],
) -> str:
    """Store a new token's hash and return the token: the only time it exists in clear."""
    token = new_api_token()
    await connection.execute(
        insert(API_TOKEN).values(
            tenant_id=tenant_id,
            user_id=user_id,
            reseller_id=reseller_id,
            token_sha256=api_token_sha256(token),
            token_prefix=token[:SHOWN_PREFIX_LENGTH],
            permissions=" ".join(sorted(set(permissions))),
        )
    )
    return token


async def manager_principal(engine: AsyncEngine, token: str) -> Principal | None:
    """The manager a live token belongs to, scoped to its reseller and every reseller
    below it; None for an unknown or revoked token, or one whose user is no longer a
    manager or whose partner is no longer a reseller."""
    async with engine.connect() as connection:
        found = (
            await connection.execute(
                select(
                    API_TOKEN.c.id,
                    API_TOKEN.c.tenant_id,
                    API_TOKEN.c.user_id,
                    API_TOKEN.c.reseller_id,
                    API_TOKEN.c.permissions,
                )
                .join(USER, USER.c.id == API_TOKEN.c.user_id)
                .join(PARTNER, PARTNER.c.id == API_TOKEN.c.reseller_id)
                .where(
                    API_TOKEN.c.token_sha256 == api_token_sha256(token),
                    API_TOKEN.c.revoked_at.is_(None),
                    # Still a manager, of a reseller, in the token's tenant.
                    USER.c.role == UserRole.MANAGER.value,
                    USER.c.tenant_id == API_TOKEN.c.tenant_id,
                    PARTNER.c.kind == PartnerKind.RESELLER.value,
                    PARTNER.c.tenant_id == API_TOKEN.c.tenant_id,
                )
            )
        ).first()
        if found is None:
            return None
        tree = await reseller_tree(connection, found.tenant_id, found.reseller_id)
    return Principal(
        tenant_id=found.tenant_id,
        user_id=found.user_id,
        credential=Credential.API_TOKEN,
        permissions=frozenset(found.permissions.split()),
        reseller_id=found.reseller_id,
        reseller_tree=tree,
        token_id=found.id,
    )


async def user_of_tenant(
    engine: AsyncEngine, tenant_id: int, user_id: int, partner_id: int | None
) -> bool:
    """Whether `user_id` is a user of `tenant_id` (so the tenant exists too) and, when
    given, `partner_id` a partner of that tenant: one statement on primary keys, on a
    connection held only while it runs."""
    conditions = [USER.c.id == user_id, USER.c.tenant_id == tenant_id]
    if partner_id is not None:
        partner = select(PARTNER.c.id).where(
            PARTNER.c.id == partner_id, PARTNER.c.tenant_id == tenant_id
        )
        conditions.append(partner.exists())
    async with engine.connect() as connection:
        found = await connection.execute(select(USER.c.id).where(*conditions))
        return found.first() is not None


async def reseller_tree(
    connection: AsyncConnection, tenant_id: int, reseller_id: int
) -> frozenset[int]:
    """`reseller_id` and every partner below it, by a recursive query. UNION (not UNION
    ALL) stops at a cycle in bad data instead of looping."""
    anchor = select(PARTNER.c.id).where(
        PARTNER.c.id == reseller_id, PARTNER.c.tenant_id == tenant_id
    )
    tree = anchor.cte("reseller_tree", recursive=True)
    below = select(PARTNER.c.id).join(tree, PARTNER.c.parent_id == tree.c.id)
    tree = tree.union(below.where(PARTNER.c.tenant_id == tenant_id))
    rows = await connection.execute(select(tree.c.id))
    return frozenset(row.id for row in rows)


class ManagerSetupError(ValueError):
    pass


async def create_manager_token(
    connection: AsyncConnection,
    *,
    tenant_id: int,
    reseller_id: int,
    email: str,
    name: str | None,
    permissions: Iterable[str],
) -> str:
    """Issue a token for the manager with `email` (created with the manager role when
    new) over `reseller_id`, which must be a reseller of the tenant."""
    reseller = (
        await connection.execute(
            select(PARTNER.c.kind).where(
                PARTNER.c.id == reseller_id, PARTNER.c.tenant_id == tenant_id
            )
        )
    ).first()
    if reseller is None or reseller.kind != PartnerKind.RESELLER.value:
        raise ManagerSetupError(f"tenant {tenant_id} has no reseller {reseller_id}")
    user = (
        await connection.execute(
            select(USER.c.id, USER.c.role).where(
                USER.c.tenant_id == tenant_id, USER.c.email == email
            )
        )
    ).first()
    if user is not None and user.role != UserRole.MANAGER.value:
        raise ManagerSetupError(f"{email} is a {user.role}, not a manager")
    if user is None:
        user_id = (
            await connection.execute(
                insert(USER)
                .values(
                    tenant_id=tenant_id,
                    email=email,
                    name=name or email,
                    role=UserRole.MANAGER.value,
                )
                .returning(USER.c.id)
            )
        ).scalar_one()
    else:
        user_id = user.id
    return await issue_api_token(
        connection,
        tenant_id=tenant_id,
        user_id=user_id,
        reseller_id=reseller_id,
        permissions=permissions,
    )


async def revoke_api_token(connection: AsyncConnection, token_prefix: str) -> int:
    """Revoke the live tokens starting with `token_prefix` (as `manager create` printed
    it); returns how many were revoked."""
    if len(token_prefix) < SHOWN_PREFIX_LENGTH:
        raise ManagerSetupError(f"give at least the first {SHOWN_PREFIX_LENGTH} characters")
    result = await connection.execute(
        update(API_TOKEN)
        .where(
            API_TOKEN.c.token_prefix == token_prefix[:SHOWN_PREFIX_LENGTH],
            API_TOKEN.c.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )
    return int(result.rowcount)
