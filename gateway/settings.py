"""Settings, read once from the environment and checked before the server starts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from db.database_url import DEFAULT_DATABASE_URL, SUPPORTED_URL_SCHEMES, url_scheme
from gateway.client_ip import trusted_networks
from gateway.dashboard import TRUSTED_DOCUMENTS_FILE, check_built
from gateway.environment import (
    MAX_WORKERS,
    PORTS,
    SettingsError,
    env_choice,
    env_flag,
    env_int,
    env_list,
    env_seconds,
    env_text,
)
from schema.request_limits import RequestLimits

# Only for the embedded development default; production must set PAYGRAPH_JWT_SECRET.
DEVELOPMENT_JWT_SECRET = "paygraph-development-secret-change-me-0123456789"
MAX_LEEWAY_SECONDS = 60
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
MIN_EC_KEY_BITS = 256
ENVIRONMENTS = ("development", "production")
PAYOUT_PROVIDERS = ("sandbox", "http")
MIN_KEY_RETENTION_HOURS = 24

# Re-exported: the settings modules beside this one import them from here.
__all__ = ["Settings", "SettingsError", "is_loopback"]


@dataclass(frozen=True)
class PayoutSettings:
    """The payout provider (gateway.payouts)."""

    provider: str = "sandbox"  # sandbox | http
    url: str | None = None
    api_key: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    environment: str = "development"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway: int = 30
    graphiql: bool = True
    introspection: bool = True
    # Answer covered root fields with one JSON-building statement (PostgreSQL only).
    compiled_reads: bool = True
    # The resolver path's speed-ups (schema.speedups).
    resolver_speedups: bool = True
    cors_origins: tuple[str, ...] = ()
    limits: RequestLimits = field(default_factory=RequestLimits)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # uvicorn worker processes of `paygraph serve`
    payouts: PayoutSettings = field(default_factory=PayoutSettings)
    slack_channel: str | None = None
    # Who the "commission payment rejected" Slack message mentions, per environment
    # (the commission payouts API's SLACK_PARTNER_PAYMENT_MENTIONS.commissionPaymentRejected).
    slack_rejection_mentions: tuple[str, ...] = ()
    idempotency_retention_hours: int = MIN_KEY_RETENTION_HOURS
    storage_dir: str = "./var/documents"
    max_upload_bytes: int = 10 * 1024 * 1024
    # Proxies whose X-Forwarded-For is believed (addresses or CIDR networks); with none,
    # the requester's IP is the TCP peer's.
    trusted_proxies: tuple[str, ...] = ()
    # How often the server moves reseller payments past their expiration date to
    # EXPIRED; 0 turns the job off (then run `paygraph expire` from a scheduler).
    expiry_interval_seconds: float = 30.0
    # A manifest of trusted documents (gateway.document_manifest), read at start-up; with
    # trusted_documents_only, no other document runs.
    trusted_documents: str | None = None
    trusted_documents_only: bool = False
    # The built reference dashboard, served under /dashboard (gateway.dashboard).
    dashboard_dir: str | None = None

    def __post_init__(self) -> None:
        _check_serving(self)
        _check_jwt(self)
        self.check_listening_on(self.host)
        _check_workflow(self)
        _check_jwt_keys(self)  # last: the only check that loads a library (PyJWT)

    def check_listening_on(self, host: str) -> None:
        """The development secret is public: anyone could mint tokens with it."""
        uses_it = not self.asymmetric and self.jwt_secret == DEVELOPMENT_JWT_SECRET
        if uses_it and not is_loopback(host):
            raise SettingsError(
                f"set PAYGRAPH_JWT_SECRET before listening on {host}: the development "
                "secret is public"
            )

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def jwt_key(self) -> str:
        """The static verification key: the HMAC secret or the PEM public key."""
        return self.jwt_public_key if self.asymmetric and self.jwt_public_key else self.jwt_secret

    @property
    def asymmetric(self) -> bool:
        return bool(set(self.jwt_algorithms) & ASYMMETRIC_ALGORITHMS)

    @classmethod
    def from_env(cls) -> Settings:
        # A typo such as `prod` must not quietly run with development defaults.
        environment = env_choice("PAYGRAPH_ENV", "development", ENVIRONMENTS)
        production = environment == "production"
        algorithms = env_list("PAYGRAPH_JWT_ALGORITHMS", "HS256")
        secret = os.environ.get("PAYGRAPH_JWT_SECRET")
        if secret is None:
            if production and set(algorithms) & HMAC_ALGORITHMS:
                raise SettingsError("PAYGRAPH_JWT_SECRET is required in production")
            secret = DEVELOPMENT_JWT_SECRET
        dashboard_dir = env_text("PAYGRAPH_DASHBOARD_DIR")
        return cls(
            database_url=env_text("DATABASE_URL") or DEFAULT_DATABASE_URL,
            environment=environment,
            jwt_secret=secret,
            jwt_algorithms=algorithms,
            jwt_public_key=_public_key(),
            jwt_jwks_url=env_text("PAYGRAPH_JWT_JWKS_URL"),
            jwt_issuer=env_text("PAYGRAPH_JWT_ISSUER"),
            jwt_audience=env_text("PAYGRAPH_JWT_AUDIENCE"),
            jwt_leeway=env_int("PAYGRAPH_JWT_LEEWAY", 30),
            graphiql=env_flag("PAYGRAPH_GRAPHIQL", not production),
            introspection=env_flag("PAYGRAPH_INTROSPECTION", not production),
            compiled_reads=env_flag("PAYGRAPH_COMPILED_READS", True),
            resolver_speedups=env_flag("PAYGRAPH_RESOLVER_SPEEDUPS", True),
            cors_origins=env_list("PAYGRAPH_CORS_ORIGINS"),
            limits=RequestLimits(
                max_depth=env_int("PAYGRAPH_MAX_DEPTH", 10, minimum=1),
                max_aliases=env_int("PAYGRAPH_MAX_ALIASES", 15, minimum=0),
                max_tokens=env_int("PAYGRAPH_MAX_TOKENS", 2000, minimum=1),
                max_body_bytes=env_int("PAYGRAPH_MAX_BODY_BYTES", 256 * 1024, minimum=1024),
                hide_suggestions=env_flag("PAYGRAPH_HIDE_SUGGESTIONS", production),
            ),
            host=env_text("PAYGRAPH_HOST") or "127.0.0.1",
            port=env_int("PAYGRAPH_PORT", 8000, minimum=PORTS[0], maximum=PORTS[-1]),
            workers=env_int("PAYGRAPH_WORKERS", 1, minimum=1, maximum=MAX_WORKERS),
            payouts=PayoutSettings(
                # A production deployment must name its provider: no silent sandbox.
                provider=env_choice(
                    "PAYGRAPH_PAYOUT_PROVIDER",
                    "http" if production else "sandbox",
                    PAYOUT_PROVIDERS,
                ),
                url=env_text("PAYGRAPH_PAYOUT_URL"),
                api_key=env_text("PAYGRAPH_PAYOUT_API_KEY"),
                timeout=env_seconds("PAYGRAPH_PAYOUT_TIMEOUT", 10.0),
            ),
            slack_channel=env_text("PAYGRAPH_SLACK_CHANNEL"),
            slack_rejection_mentions=env_list("PAYGRAPH_SLACK_MENTIONS_PAYMENT_REJECTED"),
            idempotency_retention_hours=env_int(
                "PAYGRAPH_IDEMPOTENCY_RETENTION_HOURS", MIN_KEY_RETENTION_HOURS
            ),
            storage_dir=env_text("PAYGRAPH_STORAGE_DIR") or "./var/documents",
            max_upload_bytes=env_int("PAYGRAPH_MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
            trusted_proxies=env_list("PAYGRAPH_TRUSTED_PROXIES"),
            expiry_interval_seconds=env_seconds("PAYGRAPH_EXPIRY_INTERVAL", 30.0),
            # Serving the dashboard trusts its operations, unless another manifest is named.
            trusted_documents=env_text("PAYGRAPH_TRUSTED_DOCUMENTS")
            or (str(Path(dashboard_dir) / TRUSTED_DOCUMENTS_FILE) if dashboard_dir else None),
            trusted_documents_only=env_flag("PAYGRAPH_TRUSTED_DOCUMENTS_ONLY", False),
            dashboard_dir=dashboard_dir,
        )


def _check_serving(settings: Settings) -> None:
    """The URLs PayGraph opens: its database, the JWKS endpoint, the payout provider; and
    the dashboard it serves, built."""
    if settings.dashboard_dir is not None:
        check_built(settings.dashboard_dir)
    check_database_url(settings.database_url)
    for name, url in (
        ("PAYGRAPH_JWT_JWKS_URL", settings.jwt_jwks_url),
        ("PAYGRAPH_PAYOUT_URL", settings.payouts.url),
    ):
        if url is not None and not _is_http_url(url):
            # Only the scheme is echoed: a URL may carry credentials.
            given = f"{urlsplit(url).scheme}://" if "://" in url else "a value without a scheme"
            raise SettingsError(f"{name} must be an http:// or https:// URL, not {given}")


def check_database_url(url: str) -> None:
    """A URL PayGraph can open: SQLite through aiosqlite or PostgreSQL through asyncpg.
    Only the scheme is ever echoed: the rest may hold a password."""
    accepted = ", ".join(f"{scheme}://" for scheme in SUPPORTED_URL_SCHEMES)
    scheme = url_scheme(url)
    if scheme is None:
        raise SettingsError(f"DATABASE_URL must be a URL starting with {accepted}")
    if scheme not in SUPPORTED_URL_SCHEMES:
        raise SettingsError(f"DATABASE_URL must start with {accepted}, not {scheme}://")
    try:
        port = urlsplit(url).port  # None when the URL names none
    except ValueError:  # not a number, or beyond 65535 (the engine's parser raised later)
        port = 0
    if port == 0:
        raise SettingsError("DATABASE_URL's port must be a number from 1 to 65535")


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _check_workflow(settings: Settings) -> None:
    payouts = settings.payouts
    if payouts.provider not in PAYOUT_PROVIDERS:
        raise SettingsError(
            f"PAYGRAPH_PAYOUT_PROVIDER must be one of {', '.join(PAYOUT_PROVIDERS)}"
        )
    if payouts.provider == "http" and not payouts.url:
        raise SettingsError("PAYGRAPH_PAYOUT_URL is required with the http payout provider")
    if not 0 < payouts.timeout <= 120:  # also nan
        raise SettingsError("PAYGRAPH_PAYOUT_TIMEOUT must be more than 0 and at most 120 seconds")
    if settings.idempotency_retention_hours < MIN_KEY_RETENTION_HOURS:
        raise SettingsError(
            f"PAYGRAPH_IDEMPOTENCY_RETENTION_HOURS must be at least {MIN_KEY_RETENTION_HOURS}"
        )
    if settings.max_upload_bytes < 1024:
        raise SettingsError("PAYGRAPH_MAX_UPLOAD_BYTES must be at least 1024")
    if not 0 <= settings.expiry_interval_seconds <= 86_400:
        raise SettingsError("PAYGRAPH_EXPIRY_INTERVAL must be 0 (off) to 86400 seconds")
    if settings.trusted_documents_only and settings.trusted_documents is None:
        raise SettingsError("PAYGRAPH_TRUSTED_DOCUMENTS_ONLY needs PAYGRAPH_TRUSTED_DOCUMENTS")
    try:
        trusted_networks(settings.trusted_proxies)
    except ValueError as error:
        raise SettingsError(f"PAYGRAPH_TRUSTED_PROXIES: {error}") from None


def _public_key() -> str | None:
    if path := env_text("PAYGRAPH_JWT_PUBLIC_KEY_FILE"):
        try:
            return Path(path).read_text()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not a text file"
            raise SettingsError(
                f"PAYGRAPH_JWT_PUBLIC_KEY_FILE must name a readable PEM file; {path!r}: {reason}"
            ) from None
    return os.environ.get("PAYGRAPH_JWT_PUBLIC_KEY") or None


def _check_jwt(settings: Settings) -> None:
    """Refuse configurations that would accept forgeable tokens (the keys themselves:
    _check_jwt_keys)."""
    algorithms = set(settings.jwt_algorithms)
    unknown = algorithms - HMAC_ALGORITHMS - ASYMMETRIC_ALGORITHMS
    if not algorithms or unknown:
        raise SettingsError(
            f"PAYGRAPH_JWT_ALGORITHMS must list algorithms from "
            f"{sorted(HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS)}; got {sorted(unknown) or 'none'}"
        )
    if algorithms & HMAC_ALGORITHMS and algorithms & ASYMMETRIC_ALGORITHMS:
        # One key source per deployment: mixing them invites algorithm confusion, where a
        # public key is used as an HMAC secret.
        raise SettingsError("PAYGRAPH_JWT_ALGORITHMS must not mix HS* with RS/PS/ES algorithms")
    if not 0 <= settings.jwt_leeway <= MAX_LEEWAY_SECONDS:
        raise SettingsError(f"PAYGRAPH_JWT_LEEWAY must be 0..{MAX_LEEWAY_SECONDS} seconds")
    if not settings.asymmetric and (settings.jwt_public_key or settings.jwt_jwks_url):
        raise SettingsError("a JWT public key or JWKS URL needs RS/PS/ES algorithms, not HS*")
    if settings.asymmetric and bool(settings.jwt_public_key) == bool(settings.jwt_jwks_url):
        raise SettingsError(
            "RS/PS/ES algorithms need exactly one of PAYGRAPH_JWT_PUBLIC_KEY(_FILE) "
            "and PAYGRAPH_JWT_JWKS_URL"
        )


def _check_jwt_keys(settings: Settings) -> None:
    """The HMAC secret, or the public key, is one PyJWT accepts for every algorithm, and
    long enough. PyJWT is imported here: with cryptography, it costs more than reading
    all the other settings, so a mistake elsewhere is refused without it."""
    from jwt.algorithms import get_default_algorithms

    implementations = get_default_algorithms()
    if not settings.asymmetric:
        for name in settings.jwt_algorithms:
            _check_key_length(implementations[name], settings.jwt_secret.encode(), name)
        return
    if settings.jwt_public_key:
        for name in settings.jwt_algorithms:
            try:
                key = implementations[name].prepare_key(settings.jwt_public_key)
            except Exception as error:
                raise SettingsError(f"the JWT public key does not suit {name}: {error}") from None
            if hasattr(key, "private_bytes"):
                # The gateway only verifies; a private key here is a leaked signing key.
                raise SettingsError(
                    "PAYGRAPH_JWT_PUBLIC_KEY holds a private key; give the public one"
                )
            _check_key_length(implementations[name], key, name)


def _check_key_length(implementation: Any, key: Any, algorithm: str) -> None:
    problem = implementation.check_key_length(key)
    curve = getattr(key, "curve", None)
    if problem is None and curve is not None and curve.key_size < MIN_EC_KEY_BITS:
        problem = f"the EC key has {curve.key_size} bits; at least {MIN_EC_KEY_BITS} are needed"
    if problem:
        raise SettingsError(f"the JWT key is too short for {algorithm}: {problem}")


def is_loopback(host: str) -> bool:
    return host in {"127.0.0.1", "::1", "localhost"}
