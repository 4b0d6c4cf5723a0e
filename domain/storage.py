"""Where uploaded documents' bytes live: a port, so the default local disk can become an
object store without touching the workflow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What the workflow records about a stored upload."""

    storage_key: str
    sha256: str
    size_bytes: int
    content_type: str
    file_name: str


class DocumentStorage(Protocol):
    async def put(
        self, tenant_id: int, data: bytes, *, file_name: str, content_type: str
    ) -> StoredFile:
        """Store `data` and describe it; the key is derived from the content, so storing
        the same bytes twice is harmless."""
        ...

    async def get(self, storage_key: str) -> bytes:
        """The bytes stored under `storage_key`; FileNotFoundError when there are none."""
        ...


def content_key(tenant_id: int, data: bytes) -> tuple[str, str]:
    """(storage key, sha256 hex) of `data` for a tenant: content-addressed per tenant."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{tenant_id}/{digest[:2]}/{digest}", digest
