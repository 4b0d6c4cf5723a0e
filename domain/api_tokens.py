"""Reseller managers' API tokens: how they look and how they are stored.

A token is 32 random bytes (URL-safe base64) behind a `pgm_` prefix. Only its SHA-256 is
stored: the token has full entropy, so a fast hash is enough to make a leaked table
useless, and lookups stay one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "pgm_"
SHOWN_PREFIX_LENGTH = 12


def new_api_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def api_token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_api_token(token: str) -> bool:
    return token.startswith(PREFIX) and 20 <= len(token) <= 100 and token.isascii()
