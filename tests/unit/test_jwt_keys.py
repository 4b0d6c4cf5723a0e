"""Asymmetric bearer JWTs: RS256 and ES256 tokens checked against a configured PEM public
key, and RS256 tokens checked against the keys a JWKS endpoint publishes.

test_jwt.py covers HS256 and the claims PayGraph reads. This module covers what changes
when the gateway holds only public keys: the token's `kid` picks the published key, and a
token is refused when its key is unknown, unpublished, too short, or a public key abused
as an HMAC secret (algorithm confusion). Expiry, not-before, issued-at, audience and
issuer are still enforced whichever key source is configured.

The JWKS is served by a real HTTP server on 127.0.0.1, so PyJWKClient fetches it over the
network as it does in production. The helpers `JwksServer`, `serving_jwks`, `published`
and `public_pem` are reused by tests/e2e/test_authentication.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm
from jwt.warnings import InsecureKeyLengthWarning

from domain.errors import Unauthenticated
from domain.principal import Credential, Principal
from gateway.auth import JwtVerifier
from gateway.settings import Settings
from tests.receivers import serving_in_thread

JWKS_PATH = "/.well-known/jwks.json"
ISSUER = "https://issuer.example"
AUDIENCE = "paygraph"


# --- a JWKS endpoint --------------------------------------------------------------------


class JwksServer(ThreadingHTTPServer):
    """Serves a JSON document (or raw bytes) per path and counts the fetches of each."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _JwksHandler)
        self.documents: dict[str, Any] = {}
        self.fetches: Counter[str] = Counter()

    def url(self, path: str = JWKS_PATH) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{path}"


class _JwksHandler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:
        self.server.fetches[self.path] += 1
        document = self.server.documents.get(self.path)
        if document is None:
            self.send_error(404)
            return
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@contextmanager
def serving_jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    with serving_in_thread(server, "jwks"):
        yield server


# --- keys and tokens --------------------------------------------------------------------


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def published(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    """The JWKS entry for the public half of `key`."""
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": "9",
        "tenant": 3,
        "permissions": ["payments:read"],
        "iat": now,
        "exp": now + 600,
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}


def signed(key: Any, payload: dict[str, Any], *, kid: str | None, algorithm: str = "RS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_signed(secret: bytes, payload: dict[str, Any], *, kid: str) -> str:
    """An HS256 token built by hand: PyJWT itself refuses a PEM as an HMAC secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def unsigned(payload: dict[str, Any], *, kid: str) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return ".".join(_b64url(json.dumps(part).encode()) for part in (header, payload)) + "."


async def outcome(verifier: JwtVerifier, token: str) -> Principal | Exception:
    """What the verifier made of the token: a Principal or whatever it raised."""
    try:
        return await verifier.principal(f"Bearer {token}")
    except Exception as error:
        return error


NO_SIGNING_KEY = "Invalid token: no usable signing key for it."


async def refused(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as raised:
        await verifier.principal(f"Bearer {token}")
    assert raised.value.code == "UNAUTHENTICATED"
    return raised.value.message


@dataclass(frozen=True)
class Keys:
    first: rsa.RSAPrivateKey  # published as key-1
    second: rsa.RSAPrivateKey  # published as key-2
    short: rsa.RSAPrivateKey  # 1024 bits, published as short-key
    stranger: rsa.RSAPrivateKey  # never published
    ec: ec.EllipticCurvePrivateKey
    other_ec: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        first=rsa_key(),
        second=rsa_key(),
        short=rsa_key(1024),
        stranger=rsa_key(),
        ec=ec.generate_private_key(ec.SECP256R1()),
        other_ec=ec.generate_private_key(ec.SECP256R1()),
    )


@pytest.fixture(scope="module")
def jwks(keys: Keys) -> Iterator[JwksServer]:
    with serving_jwks() as server:
        server.documents[JWKS_PATH] = {
            "keys": [
                published(keys.first, "key-1"),
                published(keys.second, "key-2"),
                published(keys.short, "short-key"),
            ]
        }
        yield server


def jwks_verifier(jwks: JwksServer, path: str = JWKS_PATH, **config: Any) -> JwtVerifier:
    """A fresh verifier, so no key is cached from an earlier test."""
    return JwtVerifier(Settings(jwt_algorithms=("RS256",), jwt_jwks_url=jwks.url(path), **config))


def pem_verifier(key: Any, algorithm: str = "RS256", **config: Any) -> JwtVerifier:
    return JwtVerifier(
        Settings(jwt_algorithms=(algorithm,), jwt_public_key=public_pem(key), **config)
    )


# --- a configured PEM public key --------------------------------------------------------


async def test_an_rs256_token_is_verified_with_the_configured_public_key(keys: Keys) -> None:
    verifier = pem_verifier(keys.first)

    principal = await verifier.principal(f"Bearer {signed(keys.first, claims(), kid=None)}")

    assert principal == Principal(
        tenant_id=3, user_id=9, credential=Credential.JWT, permissions=frozenset({"payments:read"})
    )


async def test_an_es256_token_is_verified_with_the_configured_public_key(keys: Keys) -> None:
    verifier = pem_verifier(keys.ec, "ES256")
    token = signed(keys.ec, claims(), kid=None, algorithm="ES256")

    assert (await verifier.principal(f"Bearer {token}")).user_id == 9


async def test_an_rs256_token_signed_by_another_private_key_is_refused(keys: Keys) -> None:
    verifier = pem_verifier(keys.first)

    message = await refused(verifier, signed(keys.stranger, claims(), kid=None))

    assert "Signature verification failed" in message


async def test_an_es256_token_signed_by_another_private_key_is_refused(keys: Keys) -> None:
    verifier = pem_verifier(keys.ec, "ES256")
    token = signed(keys.other_ec, claims(), kid=None, algorithm="ES256")

    message = await refused(verifier, token)

    assert "Signature verification failed" in message


async def test_an_hs256_token_keyed_with_the_public_pem_is_refused(keys: Keys) -> None:
    # The algorithm-confusion attack: the public key is public, so anyone can use its PEM
    # text as an HMAC secret. The verifier pins RS256 and must not honour the header.
    verifier = pem_verifier(keys.first)
    forged = hmac_signed(public_pem(keys.first).encode(), claims(), kid="key-1")

    message = await refused(verifier, forged)

    assert "alg" in message


async def test_an_es256_verifier_refuses_an_rs256_token(keys: Keys) -> None:
    verifier = pem_verifier(keys.ec, "ES256")

    await refused(verifier, signed(keys.first, claims(), kid=None))


# --- keys published by a JWKS endpoint --------------------------------------------------


@pytest.mark.parametrize("kid", ["key-1", "key-2"])
async def test_a_token_is_verified_with_the_published_key_its_kid_names(
    jwks: JwksServer, keys: Keys, kid: str
) -> None:
    key = keys.first if kid == "key-1" else keys.second

    principal = await jwks_verifier(jwks).principal(f"Bearer {signed(key, claims(), kid=kid)}")

    assert (principal.tenant_id, principal.user_id) == (3, 9)


async def test_a_token_naming_the_other_published_keys_kid_is_refused(
    jwks: JwksServer, keys: Keys
) -> None:
    # Signed by key-2 but claiming key-1: the kid picks the key, so the signature fails.
    message = await refused(jwks_verifier(jwks), signed(keys.second, claims(), kid="key-1"))

    assert "Signature verification failed" in message


async def test_a_token_signed_by_an_unknown_kid_is_refused(jwks: JwksServer, keys: Keys) -> None:
    message = await refused(jwks_verifier(jwks), signed(keys.first, claims(), kid="key-9"))

    assert message == NO_SIGNING_KEY


async def test_a_token_without_a_kid_is_refused(jwks: JwksServer, keys: Keys) -> None:
    message = await refused(jwks_verifier(jwks), signed(keys.first, claims(), kid=None))

    assert message == NO_SIGNING_KEY


async def test_a_token_signed_by_an_unpublished_key_is_refused(
    jwks: JwksServer, keys: Keys
) -> None:
    forged = signed(keys.stranger, claims(), kid="key-1")

    message = await refused(jwks_verifier(jwks), forged)

    assert "Signature verification failed" in message


@pytest.mark.parametrize("secret", ["pem", "jwk"])
async def test_an_hs256_token_keyed_with_a_published_key_is_refused_before_any_fetch(
    jwks: JwksServer, keys: Keys, secret: str
) -> None:
    # Algorithm confusion against a JWKS: the attacker HMACs with the published key's PEM
    # or its JWK text. The alg is refused before the key server is asked anything.
    material = (
        public_pem(keys.first) if secret == "pem" else json.dumps(published(keys.first, "key-1"))
    )
    forged = hmac_signed(material.encode(), claims(), kid="key-1")
    fetched = jwks.fetches[JWKS_PATH]

    message = await refused(jwks_verifier(jwks), forged)

    assert "alg" in message
    assert jwks.fetches[JWKS_PATH] == fetched


async def test_an_alg_none_token_naming_a_published_kid_is_refused(jwks: JwksServer) -> None:
    fetched = jwks.fetches[JWKS_PATH]

    message = await refused(jwks_verifier(jwks), unsigned(claims(), kid="key-1"))

    assert "alg" in message
    assert jwks.fetches[JWKS_PATH] == fetched


async def test_a_published_key_shorter_than_2048_bits_is_refused(
    jwks: JwksServer, keys: Keys
) -> None:
    with pytest.warns(InsecureKeyLengthWarning):  # PyJWT warns the signer, too
        token = signed(keys.short, claims(), kid="short-key")

    message = await refused(jwks_verifier(jwks), token)

    assert "1024 bits" in message


async def test_the_jwks_is_fetched_once_for_many_tokens(jwks: JwksServer, keys: Keys) -> None:
    jwks.documents["/cached.json"] = jwks.documents[JWKS_PATH]
    verifier = jwks_verifier(jwks, "/cached.json")

    for key, kid in [(keys.first, "key-1"), (keys.second, "key-2"), (keys.first, "key-1")]:
        await verifier.principal(f"Bearer {signed(key, claims(), kid=kid)}")

    assert jwks.fetches["/cached.json"] == 1


async def test_an_unreachable_jwks_refuses_the_token(keys: Keys) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the verifier connects
    verifier = JwtVerifier(
        Settings(jwt_algorithms=("RS256",), jwt_jwks_url=f"http://127.0.0.1:{port}/jwks.json")
    )

    message = await refused(verifier, signed(keys.first, claims(), kid="key-1"))

    # The key server's address and network error stay in the server log.
    assert message == NO_SIGNING_KEY
    assert str(port) not in message


async def test_a_jwks_endpoint_answering_with_something_other_than_json_refuses_the_token(
    jwks: JwksServer, keys: Keys
) -> None:
    # A proxy or a misrouted URL answering 200 with an HTML page. The caller should get
    # UNAUTHENTICATED (401) as for an unreachable JWKS, not an unhandled exception (500).
    jwks.documents["/login.html"] = b"<html><body>Please sign in</body></html>"
    verifier = jwks_verifier(jwks, "/login.html")

    result = await outcome(verifier, signed(keys.first, claims(), kid="key-1"))

    assert isinstance(result, Unauthenticated), (
        f"a JWKS answering non-JSON should refuse the token; JwtVerifier.principal raised "
        f"{result!r} instead, which escapes `except jwt.PyJWTError` in gateway/auth.py"
    )


async def test_a_key_withdrawn_from_the_jwks_is_refused_once_the_jwks_is_read_again(
    jwks: JwksServer, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gateway caches the JWKS for 300 s; shorten that to 0.2 s so the test need not
    # wait. Nothing else about the client changes.
    real_client = jwt.PyJWKClient

    def short_lived(uri: str, **options: Any) -> jwt.PyJWKClient:
        return real_client(uri, **{**options, "lifespan": 0.2})

    monkeypatch.setattr(jwt, "PyJWKClient", short_lived)
    path = "/rotating.json"
    jwks.documents[path] = {"keys": [published(keys.first, "key-1")]}
    verifier = jwks_verifier(jwks, path)
    old = signed(keys.first, claims(), kid="key-1")
    assert isinstance(await outcome(verifier, old), Principal)

    # The issuer rotates: key-1 is withdrawn (say it leaked), key-2 replaces it.
    jwks.documents[path] = {"keys": [published(keys.second, "key-2")]}
    await asyncio.sleep(0.3)
    assert isinstance(
        await outcome(verifier, signed(keys.second, claims(), kid="key-2")), Principal
    )
    assert jwks.fetches[path] == 2  # the gateway has read the new JWKS

    result = await outcome(verifier, old)

    assert isinstance(result, Unauthenticated), (
        "key-1 is no longer published and the gateway has re-read the JWKS, yet a token "
        "signed by key-1 is still accepted: gateway/auth.py builds PyJWKClient with "
        "cache_keys=True, an LRU cache of keys by kid that never expires"
    )


# --- claims, whichever key source checks the signature ----------------------------------


@pytest.fixture(params=["pem", "jwks"])
def rs256(request: pytest.FixtureRequest, jwks: JwksServer, keys: Keys) -> Callable[..., Any]:
    """Builds an RS256 verifier over a PEM or over the JWKS; tokens are signed by key-1."""

    def build(**config: Any) -> JwtVerifier:
        if request.param == "pem":
            return pem_verifier(keys.first, **config)
        return jwks_verifier(jwks, **config)

    return build


def now() -> int:
    return int(time.time())


# Times are relative to when the test runs (collection may happen minutes earlier).
@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param(lambda t: {"iat": t - 900, "exp": t - 120}, "expired", id="expired"),
        pytest.param(lambda t: {"nbf": t + 120}, "(nbf)", id="nbf-in-the-future"),
        pytest.param(lambda t: {"iat": t + 120}, "(iat)", id="iat-in-the-future"),
        pytest.param(lambda t: {"sub": None}, "sub", id="no-sub"),
        pytest.param(lambda t: {"exp": None}, "exp", id="no-exp"),
        pytest.param(lambda t: {"iat": None}, "iat", id="no-iat"),
    ],
)
async def test_a_token_outside_its_validity_or_missing_a_required_claim_is_refused(
    rs256: Callable[..., JwtVerifier],
    keys: Keys,
    overrides: Callable[[int], dict[str, Any]],
    reason: str,
) -> None:
    token = signed(keys.first, claims(**overrides(now())), kid="key-1")

    message = await refused(rs256(), token)

    assert reason in message


async def test_a_token_issued_slightly_in_the_future_is_accepted_within_the_leeway(
    rs256: Callable[..., JwtVerifier], keys: Keys
) -> None:
    verifier = rs256(jwt_leeway=30)
    token = signed(keys.first, claims(iat=now() + 10, nbf=now() + 10), kid="key-1")

    assert (await verifier.principal(f"Bearer {token}")).user_id == 9


async def test_a_token_with_the_configured_issuer_and_audience_is_accepted(
    rs256: Callable[..., JwtVerifier], keys: Keys
) -> None:
    verifier = rs256(jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    token = signed(keys.first, claims(iss=ISSUER, aud=AUDIENCE), kid="key-1")

    assert (await verifier.principal(f"Bearer {token}")).user_id == 9


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({"aud": "someone-else"}, "Audience", id="wrong-aud"),
        pytest.param({"iss": "https://evil.example"}, "issuer", id="wrong-iss"),
        pytest.param({"aud": None}, "aud", id="no-aud"),
        pytest.param({"iss": None}, "iss", id="no-iss"),
    ],
)
async def test_a_token_for_another_audience_or_from_another_issuer_is_refused(
    rs256: Callable[..., JwtVerifier], keys: Keys, overrides: dict[str, Any], reason: str
) -> None:
    verifier = rs256(jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    token = signed(keys.first, claims(**{"iss": ISSUER, "aud": AUDIENCE, **overrides}), kid="key-1")

    message = await refused(verifier, token)

    assert reason in message
