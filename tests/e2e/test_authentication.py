"""Authentication over real HTTP: every way a bearer credential can be wrong ends in the
same answer from a running server, 401 with a GraphQL-shaped body (`data: null`, one
error with code UNAUTHENTICATED and the request id), a `WWW-Authenticate: Bearer`
header and an `X-Request-Id` header. The unit tests (test_jwt.py, test_jwt_keys.py)
check the verifier itself; these check that the HTTP edge turns each refusal into that
answer and lets a valid token through.

Two servers, each started once for the module: an HS256 server that also checks the
issuer and audience, and an RS256 server whose keys come from a JWKS endpoint served by
this test process. Bearer authentication never reads the database, so both run on a
fresh SQLite file rather than once per backend.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.permissions import VIEW_PAYMENTS
from tests.e2e.server import (
    TEST_JWT_SECRET,
    TLS,
    RunningServer,
    running_server,
)
from tests.factories import tenant_and_user
from tests.unit.test_jwt_keys import (
    JWKS_PATH,
    JwksServer,
    hmac_signed,
    public_pem,
    published,
    rsa_key,
    serving_jwks,
)

# 64 bytes, so a token can be signed with the server's own secret under HS384 (48+).
SECRET = "e2e-authentication-secret-long-enough-for-hs384-and-hs512-012345"
OTHER_SECRET = "another-secret-the-server-has-never-seen-it-is-long-enough-0123"
ISSUER = "https://issuer.example"
AUDIENCE = "paygraph-e2e"
VIEWER = "{ viewer { credential scope permissions } }"


# --- requests and answers ---------------------------------------------------------------


def post(server: RunningServer, headers: dict[str, str], document: str = VIEWER) -> httpx.Response:
    return httpx.post(
        server.graphql_url, json={"query": document}, headers=headers, timeout=10, verify=TLS
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthenticated(response: httpx.Response, reason: str = "") -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/json")
    request_id = response.headers["x-request-id"]
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert reason in error["message"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "requestId": request_id}


def assert_viewer(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"]
    body = response.json()
    assert "errors" not in body
    assert body["data"] == {
        "viewer": {"credential": "JWT", "scope": "TENANT", "permissions": [VIEW_PAYMENTS]}
    }


def claims(**overrides: Any) -> dict[str, Any]:
    """Claims the HS256 server accepts; an override of None removes the claim."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": "1",
        "tenant": 1,
        "permissions": [VIEW_PAYMENTS],
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}


def with_the_claims_user(database_url: str) -> None:
    """Tenant 1 and its user 1, whom `claims` names, in a server's fresh database: the
    gateway refuses tokens naming users it lacks."""
    assert asyncio.run(tenant_and_user(database_url)) == (1, 1)


def hs(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret, algorithm=algorithm)


# --- the HS256 server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def hs256_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    database = tmp_path_factory.mktemp("hs256") / "paygraph.db"
    env = {
        "PAYGRAPH_JWT_SECRET": SECRET,
        "PAYGRAPH_JWT_ALGORITHMS": "HS256",
        "PAYGRAPH_JWT_ISSUER": ISSUER,
        "PAYGRAPH_JWT_AUDIENCE": AUDIENCE,
    }
    with running_server(f"sqlite:///{database}", env=env) as server:
        with_the_claims_user(f"sqlite:///{database}")
        yield server


def test_a_token_with_the_configured_issuer_and_audience_passes(
    hs256_server: RunningServer,
) -> None:
    assert_viewer(post(hs256_server, bearer(hs(claims()))))


# Built when the test runs: times are relative to then, not to collection. Each case also
# names what the error message must mention, so it is refused for the intended reason.
REJECTED: list[Any] = [
    pytest.param(lambda: {}, "Missing credentials", id="no-credential"),
    pytest.param(
        lambda: {"Authorization": hs(claims())}, "Bearer <token>", id="valid-token-without-bearer"
    ),
    pytest.param(
        lambda: {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()},
        "Bearer <token>",
        id="basic-auth",
    ),
    pytest.param(lambda: bearer("not-a.jwt.at-all"), "Invalid token", id="garbage-token"),
    pytest.param(
        lambda: bearer(jwt.encode(claims(), None, algorithm="none")), "alg", id="alg-none"
    ),
    pytest.param(
        lambda: bearer(hs(claims(), algorithm="HS384")), "alg", id="hs384-with-the-secret"
    ),
    pytest.param(
        lambda: bearer(hs(claims(), secret=OTHER_SECRET)),
        "Signature verification failed",
        id="bad-signature",
    ),
    pytest.param(
        lambda: bearer(hs(claims(iat=int(time.time()) - 900, exp=int(time.time()) - 120))),
        "expired",
        id="expired",
    ),
    pytest.param(
        lambda: bearer(hs(claims(nbf=int(time.time()) + 120))), "(nbf)", id="not-yet-valid"
    ),
    pytest.param(lambda: bearer(hs(claims(aud="someone-else"))), "Audience", id="wrong-audience"),
    pytest.param(
        lambda: bearer(hs(claims(iss="https://evil.example"))), "issuer", id="wrong-issuer"
    ),
    pytest.param(lambda: bearer(hs(claims(aud=None))), '"aud"', id="no-audience"),
    pytest.param(lambda: bearer(hs(claims(iss=None))), '"iss"', id="no-issuer"),
    pytest.param(lambda: bearer(hs(claims(sub=None))), '"sub"', id="no-sub"),
    pytest.param(lambda: bearer(hs(claims(exp=None))), '"exp"', id="no-exp"),
    pytest.param(lambda: bearer(hs(claims(iat=None))), '"iat"', id="no-iat"),
]


@pytest.mark.parametrize(("headers", "reason"), REJECTED)
def test_a_request_with_a_missing_or_rejected_credential_gets_401(
    hs256_server: RunningServer, headers: Callable[[], dict[str, str]], reason: str
) -> None:
    assert_unauthenticated(post(hs256_server, headers()), reason)


def test_the_401_carries_the_callers_request_id(hs256_server: RunningServer) -> None:
    response = post(hs256_server, {"X-Request-Id": "checkout-7f3a"})

    assert_unauthenticated(response)
    assert response.headers["x-request-id"] == "checkout-7f3a"


def test_graphiql_loads_without_a_token_but_its_queries_need_one(
    hs256_server: RunningServer,
) -> None:
    page = httpx.get(
        hs256_server.graphql_url, headers={"Accept": "text/html"}, timeout=10, verify=TLS
    )
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()

    browser = {"Accept": "text/html,application/json", "Content-Type": "application/json"}
    assert_unauthenticated(post(hs256_server, browser), "Missing credentials")
    in_the_url = httpx.get(
        hs256_server.graphql_url,
        params={"query": VIEWER},
        headers={"Accept": "text/html"},
        timeout=10,
        verify=TLS,
    )
    assert_unauthenticated(in_the_url)


# --- the RS256 server with a JWKS -------------------------------------------------------


@pytest.fixture(scope="module")
def issuer_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def jwks(issuer_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    with serving_jwks() as server:
        server.documents[JWKS_PATH] = {"keys": [published(issuer_key, "issuer-1")]}
        yield server


def rs256_env(jwks: JwksServer) -> dict[str, str]:
    return {"PAYGRAPH_JWT_ALGORITHMS": "RS256", "PAYGRAPH_JWT_JWKS_URL": jwks.url()}


@pytest.fixture(scope="module")
def rs256_server(
    jwks: JwksServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    database: Path = tmp_path_factory.mktemp("rs256") / "paygraph.db"
    with running_server(f"sqlite:///{database}", env=rs256_env(jwks)) as server:
        with_the_claims_user(f"sqlite:///{database}")
        yield server


def rs256_claims() -> dict[str, Any]:
    return claims(iss=None, aud=None)


def test_paygraph_serve_starts_with_rs256_and_a_jwks_url(jwks: JwksServer, tmp_path: Path) -> None:
    exit_reason = None
    try:
        with running_server(f"sqlite:///{tmp_path / 'paygraph.db'}", env=rs256_env(jwks)) as server:
            assert httpx.get(f"{server.url}/healthz", timeout=10, verify=TLS).status_code == 200
    except RuntimeError as error:  # running_server: "server exited early" + its output
        exit_reason = str(error).strip().splitlines()[-1]

    assert exit_reason is None, (
        "`paygraph serve` exits at start-up when PAYGRAPH_JWT_ALGORITHMS=RS256: "
        "gateway/cli.py _serve mints the GraphiQL banner token with mint_token(), which "
        f"signs with jwt_algorithms[0] (RS256) and the HMAC secret -> {exit_reason}"
    )


def test_a_token_signed_with_the_published_key_passes(
    rs256_server: RunningServer, issuer_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(rs256_claims(), issuer_key, algorithm="RS256", headers={"kid": "issuer-1"})

    assert_viewer(post(rs256_server, bearer(token)))


def test_a_token_signed_with_an_unpublished_key_gets_401(rs256_server: RunningServer) -> None:
    stranger = rsa_key()
    token = jwt.encode(rs256_claims(), stranger, algorithm="RS256", headers={"kid": "issuer-1"})

    assert_unauthenticated(post(rs256_server, bearer(token)), "Signature verification failed")


def test_a_token_with_an_unknown_kid_gets_401(
    rs256_server: RunningServer, issuer_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(rs256_claims(), issuer_key, algorithm="RS256", headers={"kid": "issuer-9"})

    assert_unauthenticated(post(rs256_server, bearer(token)), "no usable signing key")


@pytest.mark.parametrize("secret", ["server-secret", "public-pem"])
def test_an_hs256_token_gets_401_from_the_rs256_server(
    rs256_server: RunningServer, issuer_key: rsa.RSAPrivateKey, secret: str
) -> None:
    # Signed with the HMAC secret the server's environment still carries, or with the
    # published public key's PEM (algorithm confusion): either way HS256 is not accepted.
    if secret == "server-secret":
        token = jwt.encode(rs256_claims(), TEST_JWT_SECRET, algorithm="HS256")
    else:
        token = hmac_signed(public_pem(issuer_key).encode(), rs256_claims(), kid="issuer-1")

    assert_unauthenticated(post(rs256_server, bearer(token)), "alg")
