"""What DATABASE_URL may name, apart from db.engine so that `paygraph` can check the
setting without loading SQLAlchemy (most of what a refused start would cost)."""

from __future__ import annotations

import re

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/paygraph.db"

# The plain names a URL may use, and the async driver each stands for.
ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}
# What DATABASE_URL may start with: the plain names, or the async drivers they stand for.
SUPPORTED_URL_SCHEMES = (*ASYNC_DRIVERS, *dict.fromkeys(ASYNC_DRIVERS.values()))

# A drivername as sqlalchemy.engine.make_url reads one (`<name>://` with `name` of word
# characters and `+`), so that a scheme accepted here is the one the engine opens.
_DRIVERNAME = re.compile(r"([\w+]+)://")


def url_scheme(url: str) -> str | None:
    """The scheme `url` starts with (`postgresql+asyncpg`, `mysql`), None for a string
    that is no URL."""
    found = _DRIVERNAME.match(url)
    return found.group(1) if found else None
