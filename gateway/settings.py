"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from db.engine import DEFAULT_DATABASE_URL

# Only for the embedded development default; production must set PAYGRAPH_JWT_SECRET.
DEVELOPMENT_JWT_SECRET = "paygraph-development-secret-change-me-0123456789"
MIN_HS256_SECRET_BYTES = 32


class SettingsError(ValueError):
    pass


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    environment: str = "development"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    graphiql: bool = True
    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def from_env(cls) -> Settings:
        environment = os.environ.get("PAYGRAPH_ENV", "development")
        secret = os.environ.get("PAYGRAPH_JWT_SECRET")
        if secret is None:
            if environment == "production":
                raise SettingsError("PAYGRAPH_JWT_SECRET is required in production")
            secret = DEVELOPMENT_JWT_SECRET
        if len(secret.encode()) < MIN_HS256_SECRET_BYTES:
            raise SettingsError(
                f"PAYGRAPH_JWT_SECRET must be at least {MIN_HS256_SECRET_BYTES} bytes"
            )
        algorithms = tuple(
            a.strip() for a in os.environ.get("PAYGRAPH_JWT_ALGORITHMS", "HS256").split(",")
        )
        return cls(
            database_url=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            environment=environment,
            jwt_secret=secret,
            jwt_algorithms=algorithms,
            jwt_issuer=os.environ.get("PAYGRAPH_JWT_ISSUER") or None,
            jwt_audience=os.environ.get("PAYGRAPH_JWT_AUDIENCE") or None,
            graphiql=_flag("PAYGRAPH_GRAPHIQL", environment != "production"),
            host=os.environ.get("PAYGRAPH_HOST", "127.0.0.1"),
            port=int(os.environ.get("PAYGRAPH_PORT", "8000")),
        )
