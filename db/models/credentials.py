"""Reseller managers' API tokens (reseller completion's X-Api-Token), stored as hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base
from db.models.parties import created_at, tenant_fk
from db.models.types import BigId, UTCDateTime


class ApiToken(Base):
    """A manager's token: its SHA-256 is the lookup key; the token itself is shown once,
    when `paygraph manager create` makes it, and never stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = tenant_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so an operator can tell tokens apart without the secret.
    token_prefix: Mapped[str] = mapped_column(String(16))
    permissions: Mapped[str] = mapped_column(Text)  # space-separated permission names
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
