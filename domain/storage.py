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


class Readable(Protocol):
    """A local file to read an upload from (a spooled temporary file, or bytes in
    io.BytesIO), positioned at its start."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


class DocumentStorage(Protocol):
    async def put(
        self, tenant_id: int, data: bytes | Readable, *, file_name: str, content_type: str
    ) -> StoredFile:
        """Store `data` (the bytes, or a file read to its end) and describe it; the key
        is derived from the content, so storing the same bytes twice is harmless."""
        ...

    async def get(self, storage_key: str) -> bytes:
        """The bytes stored under `storage_key`; FileNotFoundError when there are none."""
        ...


def content_key(tenant_id: int, data: bytes) -> tuple[str, str]:
    """(storage key, sha256 hex) of `data` for a tenant: content-addressed per tenant."""
    digest = hashlib.sha256(data).hexdigest()
    return key_of(tenant_id, digest), digest


def key_of(tenant_id: int, digest: str) -> str:
    """The storage key of the content whose sha256 hex is `digest`, for a tenant."""
    return f"{tenant_id}/{digest[:2]}/{digest}"


def head_of(data: bytes | Readable, size: int) -> bytes:
    """The first `size` bytes of an upload, leaving a file where it was (at its start).
    A Readable is a local file, so reading a few bytes of it does not wait."""
    if isinstance(data, bytes):
        return data[:size]
    head = data.read(size)
    data.seek(0)
    return head
