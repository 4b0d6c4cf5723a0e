"""What a write changes, as data: the payment's new values, its documents' new values,
the audit event, the ledger postings and the notifications. Every lifecycle's rules
compute an Outcome; the unit of work writes it in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain import entities as e
from domain import notifications as n
from domain.ledger import Posting
from domain.principal import Principal
from domain.statuses import PaymentStatus
from domain.storage import StoredFile


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    label: str


SYSTEM_ACTOR = Actor(None, "PayGraph")


async def actor_of(user: Callable[[int], Awaitable[e.User | None]], principal: Principal) -> Actor:
    """The caller as the audit trail names it."""
    found = await user(principal.user_id) if principal.user_id else None
    return Actor(principal.user_id, found.name if found else f"user {principal.user_id}")


@dataclass(frozen=True, slots=True)
class DocumentChange:
    document_id: int
    values: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class NewDocument:
    document_type: str
    required: bool
    stored: StoredFile


@dataclass(frozen=True, slots=True)
class Outcome:
    """`from_status` is None when the outcome creates the payment. `reversal` undoes an
    earlier posting (ledger lines are never updated or deleted); `posting` books what is
    true now. Each becomes one posting id."""

    action: StrEnum
    from_status: PaymentStatus | None
    to_status: PaymentStatus
    payment_changes: Mapping[str, object]
    comments: str | None = None
    document_changes: tuple[DocumentChange, ...] = ()
    new_document: NewDocument | None = None
    posting: Posting | None = None
    notifications: tuple[n.Notification, ...] = ()
    reversal: Posting | None = None

    @property
    def postings(self) -> tuple[Posting, ...]:
        return tuple(p for p in (self.reversal, self.posting) if p is not None)
