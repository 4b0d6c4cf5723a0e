"""How many exports run at once: at most `per_credential` for one credential and at most
`overall` in the process (the export pool's size, so a running export never waits for a
connection). Over either cap an export is refused, not queued: a queued export would
hold its client's request open for nothing.

The counts live in the process: with several instances (or `--workers`), each instance
allows its own `per_credential` exports to one credential."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from domain.principal import Credential, Principal

CredentialKey = tuple[object, ...]


def credential_key(principal: Principal) -> CredentialKey:
    """Who is asking, for the per-credential cap: a JWT's tenant, user and partner; a
    manager's tenant, user and reseller (all of one manager's API tokens count as one)."""
    if principal.credential is Credential.API_TOKEN:
        return (Credential.API_TOKEN, principal.tenant_id, principal.user_id, principal.reseller_id)
    return (Credential.JWT, principal.tenant_id, principal.user_id, principal.partner_id)


@dataclass(eq=False)
class ExportSlot:
    """One running export's place; `release` it when the export ends (twice is harmless)."""

    slots: ExportSlots
    key: CredentialKey
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.slots._release(self.key)


@dataclass(eq=False)
class ExportSlots:
    overall: int
    per_credential: int
    _running: Counter[CredentialKey] = field(default_factory=Counter)

    @property
    def running(self) -> int:
        return self._running.total()

    def take(self, principal: Principal) -> ExportSlot | None:
        """A slot for the caller's export, or None when it or the process is at its cap.
        Synchronous: nothing can slip in between the check and the count."""
        key = credential_key(principal)
        if self.running >= self.overall or self._running[key] >= self.per_credential:
            return None
        self._running[key] += 1
        return ExportSlot(self, key)

    def _release(self, key: CredentialKey) -> None:
        self._running[key] -= 1
        if self._running[key] <= 0:
            del self._running[key]
