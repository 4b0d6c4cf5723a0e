"""A bearer token verified once is not verified again while it is valid, and a kept
token is still refused once it expires."""

from __future__ import annotations

import asyncio

import pytest

from domain.errors import Unauthenticated
from gateway import auth
from gateway.auth import JwtVerifier, mint_token
from gateway.settings import Settings

SETTINGS = Settings(jwt_secret="verified-token-test-secret-long-enough-0123456789", jwt_leeway=0)


async def test_a_kept_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = JwtVerifier(SETTINGS)
    token = mint_token(
        SETTINGS, tenant_id=1, user_id=2, permissions=["view-payments"], ttl_seconds=1
    )
    first = await verifier.principal(f"Bearer {token}")

    with monkeypatch.context() as patched:
        patched.setattr(auth.jwt, "decode", lambda *_a, **_k: pytest.fail("decoded again"))
        assert await verifier.principal(f"Bearer {token}") == first

    await asyncio.sleep(1.1)
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.principal(f"Bearer {token}")
