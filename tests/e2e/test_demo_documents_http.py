"""The demo's payment documents download, over real HTTP on SQLite and PostgreSQL: the
demo stores a real PDF per document type and tenant (content-addressed, like any upload)
and every document row names its file, with the file's sha256 and size. Before, every
one of them answered 500: their keys lacked the tenant and no file existed."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from db.demo_documents import TITLES
from tests.backends import BACKENDS
from tests.e2e.demo_site import DemoSite, demo_site
from tests.e2e.server import TLS

PAYMENTS = 300


@pytest.fixture(scope="module", params=BACKENDS)
async def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[DemoSite, Path]]:
    folder = tmp_path_factory.mktemp("demo-documents")
    async with demo_site(request.param, folder, payments=PAYMENTS) as running:
        yield running, folder / "documents"


async def test_the_demo_documents_of_a_tenant_download_as_the_pdfs_their_rows_describe(
    site: tuple[DemoSite, Path],
) -> None:
    demo, storage = site
    # given the demo's documents of its first tenant, read by that tenant's admin
    async with demo.engine.connect() as connection:
        rows = (
            await connection.exec_driver_sql(
                "SELECT id, storage_key, sha256, size_bytes, content_type FROM payment_document "
                f"WHERE tenant_id = {int(demo.tenant_id)} ORDER BY id"
            )
        ).all()
    assert len(rows) >= 20
    sample = rows[:: len(rows) // 20]  # some 20, spread over every type and status
    headers = {"Authorization": f"Bearer {demo.token()}"}

    # when each of a sample is downloaded
    async with httpx.AsyncClient(verify=TLS, base_url=demo.url, timeout=30) as client:
        for document_id, key, sha256, size, content_type in sample:
            response = await client.get(f"/documents/{document_id}/content", headers=headers)

            # then it is the PDF its row describes, under its tenant's key
            assert response.status_code == 200, (document_id, response.text)
            assert response.content.startswith(b"%PDF-") and b"%%EOF" in response.content[-8:]
            assert hashlib.sha256(response.content).hexdigest() == sha256
            assert len(response.content) == size
            assert response.headers["content-type"] == content_type == "application/pdf"
            assert key.startswith(f"{demo.tenant_id}/")

    # and the documents, however many, share one file per type and tenant
    files = [path for path in storage.rglob("*") if path.is_file()]
    tenants = {path.relative_to(storage).parts[0] for path in files}
    assert len(files) == len(TITLES) * len(tenants)
    assert len({key for _, key, *_ in rows}) <= len(TITLES)
