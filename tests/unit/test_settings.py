"""Settings: the JWT configuration is checked before the server starts, and the
environment is read into Settings with safe production defaults.

A configuration that would accept forgeable tokens must fail at start-up, not on the first
request: the `none` or an unknown algorithm, HMAC mixed with public-key algorithms (the
algorithm-confusion setup), a short HMAC secret or RSA key, a key that is not a public key
for the algorithm, and zero or two key sources. In production the development secret,
GraphiQL, introspection and field suggestions are off unless explicitly enabled.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from db.database_url import url_scheme
from gateway.settings import DEVELOPMENT_JWT_SECRET, Settings, SettingsError, check_database_url

JWKS_URL = "https://issuer.example/.well-known/jwks.json"


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class Keys:
    rsa: rsa.RSAPrivateKey
    short_rsa: rsa.RSAPrivateKey  # 1024 bits
    p256: ec.EllipticCurvePrivateKey
    p384: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        short_rsa=rsa.generate_private_key(public_exponent=65537, key_size=1024),
        p256=ec.generate_private_key(ec.SECP256R1()),
        p384=ec.generate_private_key(ec.SECP384R1()),
    )


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """from_env() sees only what each test sets (the test database URL stays)."""
    for name in list(os.environ):
        if name.startswith("PAYGRAPH_") and not name.startswith("PAYGRAPH_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield


# --- algorithms -------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["none", "None", "HS1", "hs256", "EdDSA", "ES256K"])
def test_the_none_algorithm_or_an_unknown_one_is_refused(algorithm: str) -> None:
    with pytest.raises(SettingsError, match="PAYGRAPH_JWT_ALGORITHMS"):
        Settings(jwt_algorithms=(algorithm,))


def test_an_empty_algorithm_list_is_refused() -> None:
    with pytest.raises(SettingsError, match="PAYGRAPH_JWT_ALGORITHMS"):
        Settings(jwt_algorithms=())


def test_hs256_mixed_with_rs256_is_refused_even_with_a_valid_public_key(keys: Keys) -> None:
    with pytest.raises(SettingsError, match="must not mix"):
        Settings(jwt_algorithms=("HS256", "RS256"), jwt_public_key=public_pem(keys.rsa))


def test_several_hmac_algorithms_may_share_one_long_secret() -> None:
    settings = Settings(jwt_algorithms=("HS256", "HS512"), jwt_secret="s" * 64)

    assert not settings.asymmetric
    assert settings.jwt_key == "s" * 64


# --- leeway -----------------------------------------------------------------------------


@pytest.mark.parametrize("leeway", [0, 60])
def test_a_leeway_up_to_a_minute_is_accepted(leeway: int) -> None:
    assert Settings(jwt_leeway=leeway).jwt_leeway == leeway


@pytest.mark.parametrize("leeway", [61, -1])
def test_a_leeway_over_a_minute_or_negative_is_refused(leeway: int) -> None:
    with pytest.raises(SettingsError, match="PAYGRAPH_JWT_LEEWAY"):
        Settings(jwt_leeway=leeway)


# --- HMAC secrets -----------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "minimum"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_an_hmac_secret_shorter_than_the_hash_is_refused(algorithm: str, minimum: int) -> None:
    with pytest.raises(SettingsError, match=f"too short for {algorithm}"):
        Settings(jwt_algorithms=(algorithm,), jwt_secret="s" * (minimum - 1))

    assert Settings(jwt_algorithms=(algorithm,), jwt_secret="s" * minimum).jwt_secret


def test_the_secret_is_measured_in_bytes() -> None:
    # 16 two-byte characters are the 32 bytes HS256 needs.
    assert Settings(jwt_secret="é" * 16).jwt_secret == "é" * 16


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="too short"):
        Settings(jwt_secret="")


# --- public keys ------------------------------------------------------------------------


def test_rs256_with_a_pem_public_key_is_accepted(keys: Keys) -> None:
    settings = Settings(jwt_algorithms=("RS256",), jwt_public_key=public_pem(keys.rsa))

    assert settings.asymmetric
    assert settings.jwt_key == public_pem(keys.rsa)


def test_es256_with_a_p256_public_key_is_accepted(keys: Keys) -> None:
    settings = Settings(jwt_algorithms=("ES256",), jwt_public_key=public_pem(keys.p256))

    assert settings.jwt_key == public_pem(keys.p256)


def test_rs256_with_a_jwks_url_is_accepted() -> None:
    assert Settings(jwt_algorithms=("RS256",), jwt_jwks_url=JWKS_URL).jwt_jwks_url == JWKS_URL


def test_rs256_without_a_key_source_is_refused() -> None:
    with pytest.raises(SettingsError, match="exactly one of"):
        Settings(jwt_algorithms=("RS256",))


def test_rs256_with_both_a_pem_and_a_jwks_url_is_refused(keys: Keys) -> None:
    with pytest.raises(SettingsError, match="exactly one of"):
        Settings(
            jwt_algorithms=("RS256",), jwt_public_key=public_pem(keys.rsa), jwt_jwks_url=JWKS_URL
        )


def test_a_1024_bit_rsa_public_key_is_refused(keys: Keys) -> None:
    with pytest.raises(SettingsError, match="too short for RS256"):
        Settings(jwt_algorithms=("RS256",), jwt_public_key=public_pem(keys.short_rsa))


@pytest.mark.parametrize(
    "pem",
    [
        "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END CERTIFICATE-----\n",
        "not a pem at all",
    ],
    ids=["garbage-public-key-block", "garbage-certificate-block", "plain-text"],
)
def test_a_pem_that_is_not_a_key_is_refused(pem: str) -> None:
    with pytest.raises(SettingsError, match="does not suit RS256"):
        Settings(jwt_algorithms=("RS256",), jwt_public_key=pem)


def test_an_ec_key_for_rs256_or_an_rsa_key_for_es256_is_refused(keys: Keys) -> None:
    with pytest.raises(SettingsError, match="does not suit RS256"):
        Settings(jwt_algorithms=("RS256",), jwt_public_key=public_pem(keys.p256))
    with pytest.raises(SettingsError, match="does not suit ES256"):
        Settings(jwt_algorithms=("ES256",), jwt_public_key=public_pem(keys.rsa))


def test_an_es256_verifier_refuses_a_key_on_another_curve(keys: Keys) -> None:
    with pytest.raises(SettingsError, match="does not suit ES256"):
        Settings(jwt_algorithms=("ES256",), jwt_public_key=public_pem(keys.p384))


@pytest.mark.parametrize(("algorithm", "key_name"), [("RS256", "rsa"), ("ES256", "p256")])
def test_a_private_key_given_as_the_public_key_is_refused(
    keys: Keys, algorithm: str, key_name: str
) -> None:
    # The gateway must never hold a signing key. For RS256 PyJWT cannot even verify with
    # one: every request then fails with AttributeError ("'RSA' object has no attribute
    # 'verify'"), a 500 at run time rather than an error at start-up.
    pem = private_pem(getattr(keys, key_name))
    refusal = None
    try:
        Settings(jwt_algorithms=(algorithm,), jwt_public_key=pem)
    except SettingsError as error:
        refusal = error

    assert refusal is not None, (
        f"Settings accepted a PRIVATE key PEM as PAYGRAPH_JWT_PUBLIC_KEY for {algorithm}: "
        "_check_jwt_keys in gateway/settings.py only checks that prepare_key() parses it"
    )


# --- the database URL -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///./p.db",
        "sqlite+aiosqlite:///p.db",
        "postgresql://u:p@h:5432/db",
        "postgresql+asyncpg://h/db",
        "mysql://root:hunter2@db/x",
        "POSTGRESQL://h/db",
        "post_gres://h/db",
    ],
)
def test_the_settings_read_the_scheme_the_engine_reads(url: str) -> None:
    # They check DATABASE_URL without loading SQLAlchemy; the engine opens what they accept.
    assert url_scheme(url) == make_url(url).drivername


@pytest.mark.parametrize("url", ["not a url", "user:secret@host://db", "postgresql:/h/db", ""])
def test_what_the_engine_cannot_read_is_no_url_to_the_settings(url: str) -> None:
    with pytest.raises(ArgumentError):
        make_url(url)
    assert url_scheme(url) is None
    with pytest.raises(SettingsError, match=r"^DATABASE_URL must be a URL starting with"):
        check_database_url(url)


# --- reading the environment ------------------------------------------------------------


def test_development_defaults_need_no_environment() -> None:
    settings = Settings.from_env()

    assert settings.environment == "development"
    assert settings.jwt_secret == DEVELOPMENT_JWT_SECRET
    assert settings.jwt_algorithms == ("HS256",)
    assert settings.graphiql is True
    assert settings.introspection is True
    assert settings.limits.hide_suggestions is False
    assert settings.cors_origins == ()


def test_production_without_a_jwt_secret_is_refused_for_hs256(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_ENV", "production")
    monkeypatch.setenv("PAYGRAPH_PAYOUT_URL", "https://payouts.example.test")

    with pytest.raises(SettingsError, match="PAYGRAPH_JWT_SECRET is required in production"):
        Settings.from_env()


def test_production_without_a_jwt_secret_is_fine_for_rs256_with_a_jwks_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_ENV", "production")
    monkeypatch.setenv("PAYGRAPH_PAYOUT_URL", "https://payouts.example.test")
    monkeypatch.setenv("PAYGRAPH_JWT_ALGORITHMS", "RS256")
    monkeypatch.setenv("PAYGRAPH_JWT_JWKS_URL", JWKS_URL)

    settings = Settings.from_env()

    assert settings.production
    assert settings.jwt_algorithms == ("RS256",)
    assert settings.jwt_jwks_url == JWKS_URL


def test_production_turns_off_graphiql_introspection_and_suggestions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_ENV", "production")
    monkeypatch.setenv("PAYGRAPH_PAYOUT_URL", "https://payouts.example.test")
    monkeypatch.setenv("PAYGRAPH_JWT_SECRET", "p" * 32)

    settings = Settings.from_env()

    assert settings.production
    assert settings.jwt_secret == "p" * 32
    assert settings.graphiql is False
    assert settings.introspection is False
    assert settings.limits.hide_suggestions is True


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("PAYGRAPH_GRAPHIQL", "true", "graphiql", True),
        ("PAYGRAPH_INTROSPECTION", "1", "introspection", True),
        ("PAYGRAPH_HIDE_SUGGESTIONS", "off", "hide_suggestions", False),
    ],
)
def test_each_production_default_can_be_overridden_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, attribute: str, expected: bool
) -> None:
    monkeypatch.setenv("PAYGRAPH_ENV", "production")
    monkeypatch.setenv("PAYGRAPH_PAYOUT_URL", "https://payouts.example.test")
    monkeypatch.setenv("PAYGRAPH_JWT_SECRET", "p" * 32)
    monkeypatch.setenv(variable, value)

    settings = Settings.from_env()

    holder = settings.limits if attribute == "hide_suggestions" else settings
    assert getattr(holder, attribute) is expected


def test_cors_origins_are_read_from_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_CORS_ORIGINS", " https://app.example ,https://admin.example,, ")

    assert Settings.from_env().cors_origins == ("https://app.example", "https://admin.example")


def test_request_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGRAPH_MAX_DEPTH", "7")
    monkeypatch.setenv("PAYGRAPH_MAX_ALIASES", "3")
    monkeypatch.setenv("PAYGRAPH_MAX_TOKENS", "500")
    monkeypatch.setenv("PAYGRAPH_MAX_BODY_BYTES", "1024")
    monkeypatch.setenv("PAYGRAPH_HIDE_SUGGESTIONS", "yes")

    limits = Settings.from_env().limits

    assert (limits.max_depth, limits.max_aliases, limits.max_tokens) == (7, 3, 500)
    assert limits.max_body_bytes == 1024
    assert limits.hide_suggestions is True


@pytest.mark.parametrize("variable", ["PAYGRAPH_MAX_DEPTH", "PAYGRAPH_JWT_LEEWAY"])
@pytest.mark.parametrize("value", ["ten", "1.5", "10s"])
def test_a_non_integer_number_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError, match=f"{variable} must be an integer"):
        Settings.from_env()


def test_a_leeway_over_a_minute_in_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_JWT_LEEWAY", "61")

    with pytest.raises(SettingsError, match="PAYGRAPH_JWT_LEEWAY"):
        Settings.from_env()


def test_jwt_issuer_audience_and_leeway_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_JWT_ISSUER", "https://issuer.example")
    monkeypatch.setenv("PAYGRAPH_JWT_AUDIENCE", "paygraph")
    monkeypatch.setenv("PAYGRAPH_JWT_LEEWAY", "5")

    settings = Settings.from_env()

    assert settings.jwt_issuer == "https://issuer.example"
    assert settings.jwt_audience == "paygraph"
    assert settings.jwt_leeway == 5


def test_algorithms_mixed_in_the_environment_are_refused(
    monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    monkeypatch.setenv("PAYGRAPH_JWT_ALGORITHMS", "HS256, RS256")
    monkeypatch.setenv("PAYGRAPH_JWT_PUBLIC_KEY", public_pem(keys.rsa))

    with pytest.raises(SettingsError, match="must not mix"):
        Settings.from_env()


def test_the_public_key_is_read_from_a_file(
    monkeypatch: pytest.MonkeyPatch, keys: Keys, tmp_path: Path
) -> None:
    path = tmp_path / "issuer.pem"
    path.write_text(public_pem(keys.rsa))
    monkeypatch.setenv("PAYGRAPH_JWT_ALGORITHMS", "RS256")
    monkeypatch.setenv("PAYGRAPH_JWT_PUBLIC_KEY_FILE", str(path))

    assert Settings.from_env().jwt_public_key == public_pem(keys.rsa)


def test_the_public_key_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, keys: Keys
) -> None:
    monkeypatch.setenv("PAYGRAPH_JWT_ALGORITHMS", "ES256")
    monkeypatch.setenv("PAYGRAPH_JWT_PUBLIC_KEY", public_pem(keys.p256))

    assert Settings.from_env().jwt_public_key == public_pem(keys.p256)


def test_a_short_rsa_key_in_a_file_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, keys: Keys, tmp_path: Path
) -> None:
    path = tmp_path / "short.pem"
    path.write_text(public_pem(keys.short_rsa))
    monkeypatch.setenv("PAYGRAPH_JWT_ALGORITHMS", "RS256")
    monkeypatch.setenv("PAYGRAPH_JWT_PUBLIC_KEY_FILE", str(path))

    with pytest.raises(SettingsError, match="too short"):
        Settings.from_env()


@pytest.mark.parametrize("environment", ["staging", "prod", "dev"])
def test_an_unknown_environment_name_is_refused(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    # `prod` must not quietly run with development defaults and the public secret.
    monkeypatch.setenv("PAYGRAPH_ENV", environment)
    with pytest.raises(SettingsError, match="PAYGRAPH_ENV"):
        Settings.from_env()


def test_the_environment_name_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGRAPH_ENV", "Production")
    monkeypatch.setenv("PAYGRAPH_JWT_SECRET", "s" * 32)
    monkeypatch.setenv("PAYGRAPH_PAYOUT_URL", "https://payouts.example.test")
    assert Settings.from_env().production


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "paygraph.internal"])
def test_the_public_development_secret_stays_on_loopback(host: str) -> None:
    with pytest.raises(SettingsError, match="PAYGRAPH_JWT_SECRET"):
        Settings(host=host)
    assert Settings(host=host, jwt_secret="s" * 32).host == host
    for loopback in ("127.0.0.1", "localhost", "::1"):
        Settings().check_listening_on(loopback)
    with pytest.raises(SettingsError):
        Settings().check_listening_on(host)


def test_hmac_with_a_jwks_url_or_a_public_key_is_refused(keys: Keys) -> None:
    with pytest.raises(SettingsError, match="RS/PS/ES"):
        Settings(jwt_algorithms=("HS256",), jwt_jwks_url=JWKS_URL)
    with pytest.raises(SettingsError, match="RS/PS/ES"):
        Settings(jwt_algorithms=("HS256",), jwt_public_key=public_pem(keys.rsa))


# --- the commission workflow -------------------------------------------------------------


def test_development_pays_through_the_sandbox_by_default() -> None:
    settings = Settings.from_env()
    assert settings.payouts.provider == "sandbox"
    assert settings.idempotency_retention_hours == 24


def test_production_must_name_its_payout_provider_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGRAPH_ENV", "production")
    monkeypatch.setenv("PAYGRAPH_JWT_SECRET", "p" * 32)
    with pytest.raises(SettingsError, match="PAYGRAPH_PAYOUT_URL is required"):
        Settings.from_env()
    monkeypatch.setenv("PAYGRAPH_PAYOUT_URL", "https://payouts.example.test")
    assert Settings.from_env().payouts.provider == "http"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PAYGRAPH_PAYOUT_PROVIDER", "paypal", "PAYGRAPH_PAYOUT_PROVIDER must be one of"),
        ("PAYGRAPH_PAYOUT_TIMEOUT", "0", "PAYGRAPH_PAYOUT_TIMEOUT"),
        ("PAYGRAPH_PAYOUT_TIMEOUT", "soon", "must be a number"),
        ("PAYGRAPH_IDEMPOTENCY_RETENTION_HOURS", "23", "at least 24"),
        ("PAYGRAPH_MAX_UPLOAD_BYTES", "10", "at least 1024"),
    ],
)
def test_workflow_settings_are_checked(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env()


def test_rejection_mentions_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGRAPH_SLACK_MENTIONS_PAYMENT_REJECTED", "<@U01>, <!subteam^S02>")
    assert Settings.from_env().slack_rejection_mentions == ("<@U01>", "<!subteam^S02>")


def test_trusted_proxies_and_the_expiry_interval_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGRAPH_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    monkeypatch.setenv("PAYGRAPH_EXPIRY_INTERVAL", "0")
    settings = Settings.from_env()
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    assert settings.expiry_interval_seconds == 0


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PAYGRAPH_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
        ("PAYGRAPH_EXPIRY_INTERVAL", "-1"),
        ("PAYGRAPH_EXPIRY_INTERVAL", "nan"),
    ],
)
def test_bad_proxies_or_intervals_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env()
