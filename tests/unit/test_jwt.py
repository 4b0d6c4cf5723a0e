"""Bearer JWTs: minting a token and turning a verified one into a Principal."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from domain.errors import Unauthenticated
from domain.principal import Credential, Principal
from gateway.auth import JwtVerifier, mint_token
from gateway.settings import Settings

OTHER_SECRET = "a-completely-different-secret-of-enough-length-0123"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "9",
        "tenant": 3,
        "permissions": ["payments:read"],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _signed(settings: Settings, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def _b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def verify(settings: Settings, header: str | None) -> Principal:
    return await JwtVerifier(settings).principal(header)


async def _refused(settings: Settings, header: str | None) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as raised:
        await verify(settings, header)
    assert raised.value.code == "UNAUTHENTICATED"
    return raised.value


# --- the happy path ---------------------------------------------------------------------


async def test_a_minted_token_round_trips_into_a_principal() -> None:
    settings = Settings()
    token = mint_token(
        settings, tenant_id=3, user_id=9, permissions={"b:write", "a:read"}, partner_id=5
    )

    principal = await verify(settings, f"Bearer {token}")

    assert principal == Principal(
        tenant_id=3,
        user_id=9,
        credential=Credential.JWT,
        permissions=frozenset({"a:read", "b:write"}),
        partner_id=5,
    )


def test_a_minted_token_carries_sorted_permissions_and_the_standard_claims() -> None:
    settings = Settings()
    token = mint_token(settings, tenant_id=3, user_id=9, permissions=["z", "a"], ttl_seconds=60)

    claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])

    assert claims["sub"] == "9"
    assert claims["tenant"] == 3
    assert claims["permissions"] == ["a", "z"]
    assert claims["exp"] - claims["iat"] == 60
    assert "partner_id" not in claims
    assert "iss" not in claims
    assert "aud" not in claims


async def test_a_token_without_a_partner_gives_a_principal_without_one() -> None:
    settings = Settings()
    token = mint_token(settings, tenant_id=1, user_id=2, permissions=[])

    principal = await verify(settings, f"Bearer {token}")

    assert principal.partner_id is None
    assert principal.permissions == frozenset()


async def test_the_bearer_scheme_is_case_insensitive_and_the_token_may_be_padded() -> None:
    settings = Settings()
    token = mint_token(settings, tenant_id=1, user_id=2, permissions=[])

    assert (await verify(settings, f"bearer {token}")).user_id == 2
    assert (await verify(settings, f"BEARER  {token} ")).user_id == 2


async def test_a_token_without_permissions_claim_has_no_permissions() -> None:
    settings = Settings()
    claims = _claims()
    del claims["permissions"]

    principal = await verify(settings, f"Bearer {_signed(settings, claims)}")

    assert principal.permissions == frozenset()


async def test_issuer_and_audience_are_minted_and_checked_when_configured() -> None:
    settings = Settings(jwt_issuer="https://issuer.example", jwt_audience="paygraph")
    token = mint_token(settings, tenant_id=4, user_id=5, permissions=[])

    assert (await verify(settings, f"Bearer {token}")).tenant_id == 4


async def test_a_token_for_another_audience_is_refused() -> None:
    minted_for = Settings(jwt_audience="someone-else")
    checked_by = Settings(jwt_audience="paygraph")
    token = mint_token(minted_for, tenant_id=4, user_id=5, permissions=[])

    await _refused(checked_by, f"Bearer {token}")


async def test_a_token_from_another_issuer_is_refused() -> None:
    minted_by = Settings(jwt_issuer="https://evil.example")
    checked_by = Settings(jwt_issuer="https://issuer.example")
    token = mint_token(minted_by, tenant_id=4, user_id=5, permissions=[])

    await _refused(checked_by, f"Bearer {token}")


# --- the header -------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, ""])
async def test_a_request_without_an_authorization_header_is_unauthenticated(
    header: str | None,
) -> None:
    error = await _refused(Settings(), header)

    assert "Missing credentials" in error.message


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT", "Bearer:"])
async def test_a_token_under_another_scheme_is_refused(scheme: str) -> None:
    settings = Settings()
    token = mint_token(settings, tenant_id=1, user_id=2, permissions=[])

    error = await _refused(settings, f"{scheme} {token}")

    assert "Bearer <token>" in error.message


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer    "])
async def test_a_bearer_header_without_a_token_is_refused(header: str) -> None:
    error = await _refused(Settings(), header)

    assert "Bearer <token>" in error.message


async def test_a_bare_token_without_a_scheme_is_refused() -> None:
    settings = Settings()
    token = mint_token(settings, tenant_id=1, user_id=2, permissions=[])

    await _refused(settings, token)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9"])
async def test_a_token_that_is_not_a_jwt_is_refused(token: str) -> None:
    error = await _refused(Settings(), f"Bearer {token}")

    assert error.message.startswith("Invalid token")


# --- expiry and signatures --------------------------------------------------------------


async def test_an_expired_token_is_refused() -> None:
    settings = Settings()
    token = mint_token(settings, tenant_id=1, user_id=2, permissions=[], ttl_seconds=-3600)

    error = await _refused(settings, f"Bearer {token}")

    assert "expired" in error.message.lower()


async def test_a_token_expired_by_just_over_the_leeway_is_refused() -> None:
    settings = Settings()
    now = int(time.time())
    claims = _claims(iat=now - 600, exp=now - Settings().jwt_leeway - 5)

    await _refused(settings, f"Bearer {_signed(settings, claims)}")


async def test_a_token_expired_within_the_leeway_is_still_accepted() -> None:
    # Clock skew between issuer and gateway is tolerated for Settings().jwt_leeway.
    settings = Settings()
    now = int(time.time())
    claims = _claims(iat=now - 600, exp=now - Settings().jwt_leeway // 3)

    assert (await verify(settings, f"Bearer {_signed(settings, claims)}")).user_id == 9


async def test_a_token_signed_with_another_secret_is_refused() -> None:
    settings = Settings()
    token = jwt.encode(_claims(), OTHER_SECRET, algorithm="HS256")

    error = await _refused(settings, f"Bearer {token}")

    assert "signature" in error.message.lower()


async def test_a_token_whose_payload_was_edited_after_signing_is_refused() -> None:
    # Given a valid token for tenant 3
    settings = Settings()
    header, _, signature = _signed(settings, _claims()).split(".")
    # When its payload is swapped for one naming tenant 4, keeping the signature
    forged = f"{header}.{_b64url(_claims(tenant=4))}.{signature}"

    # Then the signature no longer matches
    await _refused(settings, f"Bearer {forged}")


async def test_an_unsigned_alg_none_token_from_pyjwt_is_refused() -> None:
    settings = Settings()
    token = jwt.encode(_claims(), None, algorithm="none")

    error = await _refused(settings, f"Bearer {token}")

    assert "alg" in error.message.lower()


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_a_hand_built_alg_none_token_is_refused(alg: str) -> None:
    settings = Settings()
    token = f"{_b64url({'alg': alg, 'typ': 'JWT'})}.{_b64url(_claims())}."

    await _refused(settings, f"Bearer {token}")


async def test_an_alg_none_header_with_a_real_signature_attached_is_refused() -> None:
    settings = Settings()
    _, _, signature = _signed(settings, _claims()).split(".")
    token = f"{_b64url({'alg': 'none', 'typ': 'JWT'})}.{_b64url(_claims())}.{signature}"

    await _refused(settings, f"Bearer {token}")


async def test_a_token_signed_with_an_algorithm_not_configured_is_refused() -> None:
    # A 64-byte secret, so PyJWT has no key-length complaint about HS512.
    settings = Settings(jwt_secret="k" * 64)
    token = jwt.encode(_claims(), settings.jwt_secret, algorithm="HS512")

    await _refused(settings, f"Bearer {token}")


# --- claims -----------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["sub", "exp", "iat"])
async def test_a_token_missing_a_required_claim_is_refused(claim: str) -> None:
    settings = Settings()
    claims = _claims()
    del claims[claim]

    error = await _refused(settings, f"Bearer {_signed(settings, claims)}")

    assert claim in error.message


async def test_a_token_missing_the_tenant_claim_is_refused() -> None:
    settings = Settings()
    claims = _claims()
    del claims["tenant"]

    error = await _refused(settings, f"Bearer {_signed(settings, claims)}")

    assert "malformed claims" in error.message


@pytest.mark.parametrize("tenant", ["acme", "", None, [3], {"id": 3}, "3.5"])
async def test_a_token_whose_tenant_is_not_an_integer_is_refused(tenant: object) -> None:
    settings = Settings()
    token = _signed(settings, _claims(tenant=tenant))

    error = await _refused(settings, f"Bearer {token}")

    assert "malformed claims" in error.message


@pytest.mark.parametrize("sub", ["alice", "", "9.0"])
async def test_a_token_whose_subject_is_not_a_user_id_is_refused(sub: str) -> None:
    settings = Settings()

    await _refused(settings, f"Bearer {_signed(settings, _claims(sub=sub))}")


async def test_a_token_whose_subject_is_a_json_number_is_refused() -> None:
    settings = Settings()

    await _refused(settings, f"Bearer {_signed(settings, _claims(sub=9))}")


@pytest.mark.parametrize("permissions", ["payments:read", [1, 2], ["ok", None], {"a": 1}])
async def test_a_token_with_malformed_permissions_is_refused(permissions: object) -> None:
    settings = Settings()

    await _refused(settings, f"Bearer {_signed(settings, _claims(permissions=permissions))}")


@pytest.mark.parametrize("partner_id", ["acme", [5]])
async def test_a_token_with_a_malformed_partner_id_is_refused(partner_id: object) -> None:
    settings = Settings()

    await _refused(settings, f"Bearer {_signed(settings, _claims(partner_id=partner_id))}")


@pytest.mark.parametrize("tenant", [1.9, True, 0, -3, "٣", "1e3", "0", 2**63], ids=repr)
async def test_an_id_claim_that_is_not_a_plain_integer_is_refused(tenant: Any) -> None:
    # int(1.9) or int(True) would silently land the caller in tenant 1.
    settings = Settings()
    token = _signed(settings, _claims(tenant=tenant))
    await _refused(settings, f"Bearer {token}")


async def test_a_partner_id_claim_that_is_a_float_is_refused() -> None:
    settings = Settings()
    await _refused(settings, f"Bearer {_signed(settings, _claims(partner_id=2.5))}")


async def test_an_id_claim_may_be_a_string_of_digits() -> None:
    settings = Settings()
    principal = await verify(settings, f"Bearer {_signed(settings, _claims(tenant='7'))}")
    assert principal.tenant_id == 7
