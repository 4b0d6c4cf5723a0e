"""Documents on the local disk: stored under a key derived from their content and tenant,
read back byte for byte, and never reached through a key that leads anywhere else."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from domain.storage import DocumentStorage, StoredFile
from gateway.storage import DEFAULT_STORAGE_DIR, LocalDiskStorage, storage_from_env

PDF = b"%PDF-1.7\n" + os.urandom(2048) + b"\n%%EOF\n"


async def test_a_stored_document_reads_back_byte_for_byte(tmp_path: Path) -> None:
    # Given a storage in an empty folder (it creates what it needs)
    storage: DocumentStorage = LocalDiskStorage(tmp_path / "documents")

    # When a document is stored
    stored = await storage.put(7, PDF, file_name="statement.pdf", content_type="application/pdf")

    # Then it is described by its content, filed by tenant and digest
    digest = hashlib.sha256(PDF).hexdigest()
    assert stored == StoredFile(
        storage_key=f"7/{digest[:2]}/{digest}",
        sha256=digest,
        size_bytes=len(PDF),
        content_type="application/pdf",
        file_name="statement.pdf",
    )
    assert (tmp_path / "documents" / stored.storage_key).read_bytes() == PDF
    # and reads back unchanged
    assert await storage.get(stored.storage_key) == PDF


async def test_the_same_bytes_get_the_same_key_and_one_file(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path)

    first = await storage.put(7, PDF, file_name="a.pdf", content_type="application/pdf")
    again = await storage.put(7, PDF, file_name="b.pdf", content_type="application/pdf")
    other_tenant = await storage.put(8, PDF, file_name="a.pdf", content_type="application/pdf")

    assert again.storage_key == first.storage_key
    assert other_tenant.storage_key != first.storage_key  # tenants share no files
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted([first.storage_key, other_tenant.storage_key])  # no temp files left


async def test_storing_again_repairs_a_damaged_copy(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path)
    stored = await storage.put(7, PDF, file_name="a.pdf", content_type="application/pdf")
    (tmp_path / stored.storage_key).write_bytes(b"damaged")

    await storage.put(7, PDF, file_name="a.pdf", content_type="application/pdf")

    assert await storage.get(stored.storage_key) == PDF


async def test_a_missing_document_is_file_not_found(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path)
    digest = hashlib.sha256(b"never stored").hexdigest()

    with pytest.raises(FileNotFoundError):
        await storage.get(f"7/{digest[:2]}/{digest}")


ESCAPES = [
    "../outside",
    "7/../../outside",
    "/etc/passwd",
    "7/ab/../../../etc/passwd",
    "7\\ab\\" + "a" * 64,
    "",
    "7",
    "0/ab/ab" + "0" * 62,  # no tenant 0
    "-1/ab/ab" + "0" * 62,
    "7/AB/AB" + "0" * 62,  # upper case is not what content_key makes
    "7/cd/ab" + "0" * 62,  # the folder is not the digest's prefix
    "7/ab/ab" + "0" * 61,  # too short
    "7/ab/ab" + "0" * 62 + "\n",
    "7/ab/ab" + "0" * 62 + "/..",
    "7/./ab" + "0" * 62,
]


@pytest.mark.parametrize("key", ESCAPES)
async def test_a_key_of_any_other_shape_is_refused(tmp_path: Path, key: str) -> None:
    # Given a file outside the storage folder, as a target
    (tmp_path / "outside").write_bytes(b"secret")
    storage = LocalDiskStorage(tmp_path / "documents")

    # When it is asked for by a key not shaped like a content key, then nothing is read
    with pytest.raises(ValueError, match="storage key"):
        await storage.get(key)


async def test_a_symlink_inside_the_root_does_not_lead_out(tmp_path: Path) -> None:
    # Given a tenant folder that someone replaced with a link to elsewhere
    (tmp_path / "elsewhere" / "ab").mkdir(parents=True)
    key = "7/ab/ab" + "0" * 62
    (tmp_path / "elsewhere" / key.removeprefix("7/")).write_bytes(b"secret")
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "7").symlink_to(tmp_path / "elsewhere")
    storage = LocalDiskStorage(tmp_path / "documents")

    # Then neither reading nor writing follows it, nor creates anything there
    with pytest.raises(ValueError, match="outside the storage folder"):
        await storage.get(key)
    with pytest.raises(ValueError, match="outside the storage folder"):
        await storage.put(7, b"x", file_name="x", content_type="text/plain")
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["ab"]


@pytest.mark.parametrize("tenant_id", [0, -1, True])
async def test_only_a_real_tenant_id_files_a_document(tmp_path: Path, tenant_id: int) -> None:
    storage = LocalDiskStorage(tmp_path)

    with pytest.raises(ValueError, match="tenant"):
        await storage.put(tenant_id, PDF, file_name="a.pdf", content_type="application/pdf")
    assert not any(tmp_path.iterdir())


def test_the_storage_folder_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYGRAPH_STORAGE_DIR", str(tmp_path / "docs"))
    assert storage_from_env().root == (tmp_path / "docs").resolve()

    monkeypatch.delenv("PAYGRAPH_STORAGE_DIR")
    monkeypatch.chdir(tmp_path)
    assert storage_from_env().root == (tmp_path / DEFAULT_STORAGE_DIR).resolve()
