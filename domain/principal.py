"""Who is calling: the authenticated principal every read and write is scoped by."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: int
    user_id: int | None
    credential: str  # "jwt" or "api_token"
    permissions: frozenset[str] = field(default_factory=frozenset)
    partner_id: int | None = None
