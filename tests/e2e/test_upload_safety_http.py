"""Uploads over real HTTP on both backends (the whole app served in-process on the test's
database, files on a temporary disk): a caller who may not upload is refused before its
body is read, a body past the limit gets 413, and a file that is not what it says, or
whose name is too long or holds control characters, gets BAD_USER_INPUT naming the
file. Every refusal writes nothing: no document row, no event, no stored file."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.permissions import REQUEST_PARTNER_PAYMENTS, VIEW_PARTNER_PAYMENTS
from domain.uploads import MAX_FILE_NAME
from gateway.app import create_app
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TLS
from tests.factories import Factory
from tests.graphql import global_id
from tests.live_server import close_app_pools, serving
from tests.raw_http import unfinished_request
from tests.uploads import MULTIPART, PDF, document_upload

SECRET = "upload-safety-test-secret-long-enough-0123456789"
MAX_UPLOAD_BYTES = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


@dataclass
class Site:
    client: httpx.AsyncClient
    engine: AsyncEngine
    storage: Path


@pytest.fixture(scope="module")
async def site(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    storage = tmp_path_factory.mktemp("documents")
    settings = Settings(
        jwt_secret=SECRET, storage_dir=str(storage), max_upload_bytes=MAX_UPLOAD_BYTES
    )
    app = create_app(settings, engine)
    try:
        async with (
            serving(app) as url,
            httpx.AsyncClient(verify=TLS, base_url=url, timeout=30) as client,
        ):
            yield Site(client, engine, storage)
    finally:
        await close_app_pools(app)


@dataclass
class Payout:
    tenant_id: int
    payment_id: int
    partner_user: dict[str, str]  # request headers

    @property
    def gid(self) -> str:
        return global_id("Payment", self.payment_id)


async def new_payout(f: Factory, *permissions: str) -> Payout:
    """A generated commission payment and its partner's user, whose token carries
    `permissions` (by default the one uploads need, and reading)."""
    tenant = await f.tenant()
    partner = await f.partner(tenant, kind="isv")
    user = await f.user(tenant, role="partner", partner_id=partner)
    payment = await f.payment(tenant, kind="commission", status="generated", partner_id=partner)
    token = mint_token(
        Settings(jwt_secret=SECRET),
        tenant_id=tenant,
        user_id=user,
        partner_id=partner,
        permissions=permissions or (REQUEST_PARTNER_PAYMENTS, VIEW_PARTNER_PAYMENTS),
    )
    return Payout(tenant, payment, {"Authorization": f"Bearer {token}"})


async def upload(site: Site, payout: Payout, body: bytes) -> httpx.Response:
    headers = {**payout.partner_user, "Content-Type": MULTIPART}
    return await site.client.post("/graphql", content=body, headers=headers)


async def written(site: Site, payout: Payout) -> dict[str, Any]:
    """What an upload to the payout's payment leaves: rows and stored files."""
    async with site.engine.connect() as connection:
        documents = await connection.scalar(
            select(func.count()).where(m.PaymentDocument.payment_id == payout.payment_id)
        )
        events = await connection.scalar(
            select(func.count()).where(m.PaymentEvent.payment_id == payout.payment_id)
        )
    tenant_folder = site.storage / str(payout.tenant_id)
    files = sorted(p.name for p in tenant_folder.rglob("*") if p.is_file())
    return {"documents": documents, "events": events, "files": files}


NOTHING = {"documents": 0, "events": 0, "files": []}


async def test_a_caller_who_may_not_upload_is_refused_before_the_body_is_read(site: Site) -> None:
    # given a reviewer's token (reads partner payments, may not upload)
    payout = await new_payout(Factory(site.engine), VIEW_PARTNER_PAYMENTS)
    body = document_upload(payout.gid, file_name="a.pdf", content_type="application/pdf", data=PDF)
    body += b" " * (MAX_UPLOAD_BYTES - len(body))

    # when it sends the headers and 100 bytes of an upload, and never the rest
    answer = await unfinished_request(
        str(site.client.base_url),
        "/graphql",
        {**payout.partner_user, "Content-Type": MULTIPART, "X-Request-Id": "not-allowed"},
        body[:100],
        declared_length=len(body),
    )

    # then the refusal comes anyway, and nothing is written
    assert answer.status == 403, answer.body
    [error] = answer.json()["errors"]
    assert error["extensions"] == {"code": "FORBIDDEN", "requestId": "not-allowed"}
    assert error["message"] == f"Uploads need the permission {REQUEST_PARTNER_PAYMENTS}."
    assert await written(site, payout) == NOTHING


async def test_an_upload_over_the_limit_gets_413_and_writes_nothing(site: Site) -> None:
    payout = await new_payout(Factory(site.engine))
    data = PDF + b"0" * MAX_UPLOAD_BYTES

    response = await upload(
        site,
        payout,
        document_upload(payout.gid, file_name="big.pdf", content_type="application/pdf", data=data),
    )

    assert response.status_code == 413, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert await written(site, payout) == NOTHING


BAD_FILES = {
    "html-sent-as-pdf": ("page.pdf", "application/pdf", HTML),
    "windows-executable-sent-as-pdf": ("invoice.pdf", "application/pdf", EXECUTABLE),
    "linux-executable-sent-as-pdf": ("invoice.pdf", "application/pdf", ELF),
    "png-sent-as-jpeg": ("scan.jpg", "image/jpeg", PNG),
    "pdf-sent-as-png": ("scan.png", "image/png", PDF),
    "html-sent-as-html": ("page.html", "text/html", HTML),
    "empty": ("empty.pdf", "application/pdf", b""),
    "name-of-1004-characters": ("x" * 1000 + ".pdf", "application/pdf", PDF),
    "name-one-over-the-limit": ("é" * (MAX_FILE_NAME - 3) + ".pdf", "application/pdf", PDF),
    "nul-in-name": ("invoice\x00.pdf", "application/pdf", PDF),
    "line-feed-in-name": ("invoice\n.pdf", "application/pdf", PDF),
    "delete-in-name": ("invoice\x7f.pdf", "application/pdf", PDF),
    "escape-in-name": ("invoice\x1b[31m.pdf", "application/pdf", PDF),
}


@pytest.mark.parametrize(("file_name", "content_type", "data"), BAD_FILES.values(), ids=BAD_FILES)
async def test_a_file_that_is_not_what_it_says_or_is_badly_named_is_refused_and_nothing_is_kept(
    site: Site, file_name: str, content_type: str, data: bytes
) -> None:
    # given a partner user who may upload to its payment
    payout = await new_payout(Factory(site.engine))

    # when it uploads the bad file
    body = document_upload(payout.gid, file_name=file_name, content_type=content_type, data=data)
    response = await upload(site, payout, body)

    # then BAD_USER_INPUT names the file, and no row, event or file is written
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["data"] is None, answer
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "file"}, error
    assert await written(site, payout) == NOTHING


@pytest.mark.parametrize(
    ("file_name", "content_type", "data"),
    [
        ("é" * (MAX_FILE_NAME - 4) + ".pdf", "application/pdf", PDF),  # the longest name
        ("constancia fiscal (2025).png", "image/png", PNG),
        ("scan.jpg", "image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32),
    ],
    ids=["pdf-with-the-longest-name", "png", "jpeg"],
)
async def test_a_file_that_is_what_it_says_is_stored_and_downloads(
    site: Site, file_name: str, content_type: str, data: bytes
) -> None:
    payout = await new_payout(Factory(site.engine))

    body = document_upload(payout.gid, file_name=file_name, content_type=content_type, data=data)
    response = await upload(site, payout, body)

    answer = response.json()
    assert "errors" not in answer, answer
    document = answer["data"]["addPaymentDocument"]["document"]
    digest = hashlib.sha256(data).hexdigest()
    assert document["fileName"] == file_name
    assert (document["contentType"], document["sizeBytes"]) == (content_type, len(data))
    assert document["sha256"] == digest
    assert await written(site, payout) == {"documents": 1, "events": 1, "files": [digest]}
    download = await site.client.get(document["downloadPath"], headers=payout.partner_user)
    assert download.status_code == 200
    assert download.content == data
