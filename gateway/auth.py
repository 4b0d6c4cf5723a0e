"""Bearer JWT verification: claims become the request's Principal."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import jwt

from domain.errors import Unauthenticated
from domain.principal import Principal
from gateway.settings import Settings
from resolvers.cursors import MAX_ROW_ID, parse_row_id

LEEWAY_SECONDS = 30


def mint_token(
    settings: Settings,
    *,
    tenant_id: int,
    user_id: int,
    permissions: Iterable[str],
    partner_id: int | None = None,
    ttl_seconds: int = 12 * 3600,
) -> str:
    """A signed development/test token with the claims PayGraph reads."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "tenant": tenant_id,
        "permissions": sorted(permissions),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if partner_id is not None:
        claims["partner_id"] = partner_id
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm=settings.jwt_algorithms[0])


def principal_from_bearer(settings: Settings, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthenticated("Missing credentials: send `Authorization: Bearer <token>`.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
    try:
        claims = jwt.decode(
            token.strip(),
            settings.jwt_secret,
            algorithms=list(settings.jwt_algorithms),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"Invalid token: {error}.") from None
    return _principal(claims)


def _claim_id(value: Any) -> int:
    """An id claim: a positive BIGINT, as a JSON integer or a string of at most 18 ASCII
    digits. Floats and booleans are refused outright: `int(1.9)` or `int(True)` would land
    the caller in tenant 1."""
    if type(value) is int:
        row_id = value if value <= MAX_ROW_ID else None
    elif isinstance(value, str) and len(value) <= 18:
        row_id = parse_row_id(value)
    else:
        row_id = None
    if row_id is None or row_id <= 0:
        raise ValueError(f"not an id: {value!r}")
    return row_id


def _principal(claims: dict[str, Any]) -> Principal:
    try:
        tenant_id = _claim_id(claims["tenant"])
        user_id = _claim_id(claims["sub"])
        permissions = claims.get("permissions", [])
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise TypeError("permissions")
        partner = claims.get("partner_id")
        partner_id = None if partner is None else _claim_id(partner)
    except (KeyError, TypeError, ValueError):
        raise Unauthenticated("Invalid token: missing or malformed claims.") from None
    return Principal(
        tenant_id=tenant_id,
        user_id=user_id,
        credential="jwt",
        permissions=frozenset(permissions),
        partner_id=partner_id,
    )
