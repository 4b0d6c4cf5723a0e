"""Bearer JWT verification (commission payouts): the token's claims become the request's
Principal.

Algorithms are pinned by configuration, never read from the token. HMAC (HS256 with a
shared secret) is the default; RS/PS/ES tokens are verified with a configured public key
or with the key a JWKS endpoint publishes under the token's `kid`. Keys shorter than the
algorithm needs are refused, `exp`, `iat` and `sub` are required, and `iss` and `aud`
are checked when configured.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import anyio.to_thread
import jwt

from domain.errors import Unauthenticated
from domain.principal import Credential, Principal
from gateway.settings import Settings
from resolvers.cursors import MAX_ROW_ID, parse_row_id

logger = logging.getLogger("paygraph.auth")

REQUIRED_CLAIMS = ["exp", "iat", "sub"]


def mint_token(
    settings: Settings,
    *,
    tenant_id: int,
    user_id: int,
    permissions: Iterable[str],
    partner_id: int | None = None,
    ttl_seconds: int = 12 * 3600,
) -> str:
    """A signed development/test token with the claims PayGraph reads (HMAC only: the
    gateway never holds a private key)."""
    if settings.asymmetric:
        raise ValueError("PayGraph mints HS* tokens only; RS/PS/ES tokens come from your IdP")
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


VERIFIED_TOKENS_KEPT = 4096


class JwtVerifier:
    """Verifies bearer tokens with the configured algorithms and key source."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._jwks = (
            # The key set is cached for 5 minutes; keys are not cached on their own, so a
            # key withdrawn from the set stops verifying once the set is read again.
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=False, lifespan=300, timeout=5)
            if settings.jwt_jwks_url
            else None
        )
        # Tokens already verified against the fixed key, with their time bounds: a
        # dashboard sends the same token with every request, and verifying it again
        # cost ~6 % of a one-statement read. Not kept with a key set, whose keys change.
        self._verified: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()

    async def principal(self, authorization: str | None) -> Principal:
        principal, _ = await self.verified(authorization)
        return principal

    async def verified(self, authorization: str | None) -> tuple[Principal, float]:
        """The token's principal and the moment (epoch seconds, leeway included) it
        stops being accepted: a websocket it opened is closed then."""
        token = bearer_token(authorization)
        leeway = self.settings.jwt_leeway
        known = self._verified.get(token)
        if known is not None:
            principal, not_before, expires = known
            if not_before - leeway <= time.time() < expires + leeway:
                return principal, expires + leeway
            del self._verified[token]  # verified again below, which says what is wrong
        principal, not_before, expires = await self._verify(token)
        if self._jwks is None:
            self._verified[token] = (principal, not_before, expires)
            if len(self._verified) > VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)
        return principal, expires + leeway

    async def _verify(self, token: str) -> tuple[Principal, float, float]:
        """The token's principal and the moments it is valid from and until."""
        try:
            key = await self._key_for(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=list(self.settings.jwt_algorithms),
                issuer=self.settings.jwt_issuer,
                audience=self.settings.jwt_audience,
                leeway=self.settings.jwt_leeway,
                options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
            )
        except jwt.PyJWKClientError:
            # Its text may name the key server and its network errors: keep that in the log.
            raise Unauthenticated("Invalid token: no usable signing key for it.") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"Invalid token: {error}") from None
        # PyJWT refuses a token before its `nbf` and before its `iat` (with the leeway).
        not_before = max(float(claims.get("nbf") or 0), float(claims.get("iat") or 0))
        return principal_from_claims(claims), not_before, float(claims["exp"])

    async def _key_for(self, token: str) -> Any:
        if self._jwks is None:
            return self.settings.jwt_key
        # Refuse an algorithm we do not accept before asking the key server anything.
        if jwt.get_unverified_header(token).get("alg") not in self.settings.jwt_algorithms:
            raise jwt.InvalidAlgorithmError("The specified alg value is not allowed")
        try:
            # PyJWKClient fetches with urllib; keep that off the event loop.
            signing_key = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError:
            logger.warning("JWKS at %s is unreachable", self.settings.jwt_jwks_url)
            raise
        except jwt.PyJWTError:
            raise
        except Exception as error:  # e.g. a proxy's HTML page instead of a key set
            logger.warning("JWKS at %s is unusable: %r", self.settings.jwt_jwks_url, error)
            raise jwt.PyJWKClientError("The key set could not be read") from None
        return signing_key.key


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated(
            "Missing credentials: send `Authorization: Bearer <token>` or `X-Api-Token`."
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
    return token.strip()


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


def principal_from_claims(claims: dict[str, Any]) -> Principal:
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
        credential=Credential.JWT,
        permissions=frozenset(permissions),
        partner_id=partner_id,
    )
