"""Uploaded documents on the local disk: the default DocumentStorage.

Files are content-addressed per tenant (`<tenant>/<2 hex>/<sha256>` under the root), so
a key never comes from a client: any key that does not have that exact shape is refused
before the file system is touched. Writes stream into a temporary file in the tenant's
folder (hashed on the way) and are renamed into place, so a reader never sees half a file
and an upload is never held in memory whole.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

from domain.storage import Readable, StoredFile, key_of

DEFAULT_STORAGE_DIR = "./var/documents"
COPY_CHUNK_BYTES = 256 * 1024

# The shape `content_key` produces; the folder is the digest's first two characters.
_KEY = re.compile(r"[1-9][0-9]{0,18}/([0-9a-f]{2})/\1[0-9a-f]{62}")


class LocalDiskStorage:
    """DocumentStorage on a local (or mounted) folder."""

    def __init__(self, root: Path) -> None:
        # Resolved once: a later chdir must not move the documents.
        self.root = root.expanduser().resolve()

    async def put(
        self, tenant_id: int, data: bytes | Readable, *, file_name: str, content_type: str
    ) -> StoredFile:
        """Store `data` under its content key, copied a chunk at a time (an upload never
        sits in memory whole); storing the same bytes again rewrites the same file, which
        also repairs a damaged copy."""
        if type(tenant_id) is not int or tenant_id <= 0:
            raise ValueError(f"not a tenant id: {tenant_id!r}")
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        key, digest, size = await asyncio.to_thread(self._write, tenant_id, source)
        return StoredFile(
            storage_key=key,
            sha256=digest,
            size_bytes=size,
            content_type=content_type,
            file_name=file_name,
        )

    async def get(self, storage_key: str) -> bytes:
        """The stored bytes; ValueError for a malformed key, FileNotFoundError when
        nothing is stored under it."""
        return await asyncio.to_thread(self._read, self._path(storage_key))

    def _path(self, storage_key: str) -> Path:
        if not isinstance(storage_key, str) or not _KEY.fullmatch(storage_key):
            raise ValueError("not a document storage key")
        return self.root / storage_key

    def _read(self, path: Path) -> bytes:
        self._check_inside(path)
        return path.read_bytes()

    def _write(self, tenant_id: int, source: Readable) -> tuple[str, str, int]:
        """Copy `source` into a temporary file in the tenant's folder, hashing it on the
        way, then rename it to its content key: (key, sha256 hex, size)."""
        folder = self.root / str(tenant_id)
        self._check_inside(folder)  # before mkdir, which would follow a planted link
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
        try:
            digest, size = _copy(source, descriptor)
            key = key_of(tenant_id, digest)
            path = self._path(key)
            self._check_inside(path)
            path.parent.mkdir(exist_ok=True)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)
        return key, digest, size

    def _check_inside(self, path: Path) -> None:
        # The key's shape already rules out `..` and absolute paths; a symlink planted
        # inside the root must not lead out of it either.
        if not path.resolve().is_relative_to(self.root):
            raise ValueError("the storage key leads outside the storage folder")


def storage_from_env() -> LocalDiskStorage:
    """The storage PAYGRAPH_STORAGE_DIR names (default ./var/documents)."""
    return LocalDiskStorage(Path(os.environ.get("PAYGRAPH_STORAGE_DIR") or DEFAULT_STORAGE_DIR))


def _copy(source: Readable, descriptor: int) -> tuple[str, int]:
    """Write `source` to the open file, a chunk at a time: (sha256 hex, size)."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(descriptor, "wb") as file:
        while chunk := source.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
            file.write(chunk)
            size += len(chunk)
        file.flush()
        # On disk before the rename, so a crash cannot leave a named but empty file
        # that a committed row points at.
        os.fsync(file.fileno())
    return digest.hexdigest(), size


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
