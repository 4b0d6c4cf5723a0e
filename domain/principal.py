"""Who is calling: the authenticated principal every read and write is scoped by."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Credential(StrEnum):
    JWT = "jwt"  # an admin or partner user's bearer token (commission payouts)
    API_TOKEN = "api_token"  # a reseller manager's X-Api-Token (reseller completion)


class AccessScope(StrEnum):
    TENANT = "tenant"  # the whole tenant
    PARTNER = "partner"  # a partner user: its own partner's rows
    RESELLER_TREE = "reseller_tree"  # a manager: its reseller and every reseller below


@dataclass(frozen=True, slots=True)
class Principal:
    tenant_id: int
    user_id: int | None
    credential: Credential
    permissions: frozenset[str] = field(default_factory=frozenset)
    partner_id: int | None = None  # a partner user's own partner
    reseller_id: int | None = None  # a manager's reseller
    # The manager's reseller and every reseller below it, read from the database when
    # the token was checked; never taken from anything the client sends.
    reseller_tree: frozenset[int] | None = None
    # The manager's API token (its row id), which the throttle keys its bucket by.
    token_id: int | None = None

    @property
    def partner_scope(self) -> frozenset[int] | None:
        """Partners whose rows this caller may see; None means the whole tenant."""
        if self.reseller_tree is not None:
            return self.reseller_tree
        if self.partner_id is not None:
            return frozenset({self.partner_id})
        return None

    @property
    def access_scope(self) -> AccessScope:
        if self.reseller_tree is not None:
            return AccessScope.RESELLER_TREE
        if self.partner_id is not None:
            return AccessScope.PARTNER
        return AccessScope.TENANT
