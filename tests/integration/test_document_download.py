"""Downloading an uploaded payment document over real HTTP, behind the request guard.

Whoever may read the document in GraphQL gets its bytes, as an attachment that browsers
neither sniff nor cache; anyone else (another tenant, another partner's user, a reader
of other payment kinds, a caller who reads nothing) gets the very 404 a missing document
gets. A document whose bytes no longer match the recorded sha256 is never sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from db import models as m
from db.credentials import manager_principal
from db.engine import read_engine
from domain.permissions import PAY_PARTNERS_PAYMENTS, VIEW_PARTNER_PAYMENTS, VIEW_PAYMENTS
from domain.principal import Principal
from gateway.auth import JwtVerifier, mint_token
from gateway.downloads import content_disposition, document_download
from gateway.request_guard import RequestGuard
from gateway.settings import Settings
from gateway.storage import LocalDiskStorage
from tests.factories import Factory
from tests.live_server import serving

SETTINGS = Settings(jwt_secret="download-test-secret-that-is-long-enough-0123456789")
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@dataclass
class Site:
    client: httpx.AsyncClient
    storage: LocalDiskStorage
    factory: Factory


@pytest.fixture(scope="module")
async def site(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    storage = LocalDiskStorage(tmp_path_factory.mktemp("documents"))
    reads = read_engine(engine)

    async def managers(token: str) -> Principal | None:
        return await manager_principal(reads, token)

    guarded = RequestGuard(
        document_download(reads, storage),
        verifier=JwtVerifier(SETTINGS),
        managers=managers,
        principals=any_principal,
        max_body_bytes=4096,
        graphiql=False,
    )
    app = Starlette(
        routes=[Route("/documents/{document_id:int}/content", guarded, methods=["GET"])]
    )
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield Site(client, storage, Factory(engine))


async def no_managers(_: str) -> Principal | None:
    return None


async def any_principal(_: Principal) -> None:
    """These tests are of the endpoint's own access rules, whatever user a token names;
    the gateway's check that the user exists has its tests through the whole app."""


@dataclass
class Uploaded:
    tenant_id: int
    partner_id: int
    document_id: int
    storage_key: str
    data: bytes


async def uploaded_document(
    site: Site,
    *,
    kind: str = "commission",
    status: str = "generated",
    data: bytes = PDF,
    file_name: str = "statement.pdf",
    content_type: str = "application/pdf",
) -> Uploaded:
    """A tenant with a partner whose payment has one document with its file stored."""
    f = site.factory
    tenant = await f.tenant()
    partner = await f.partner(tenant, kind="isv")
    payment = await f.payment(tenant, kind=kind, status=status, partner_id=partner)
    stored = await site.storage.put(tenant, data, file_name=file_name, content_type=content_type)
    document = await f.insert(
        m.PaymentDocument,
        tenant_id=tenant,
        payment_id=payment,
        document_type="invoice",
        storage_key=stored.storage_key,
        sha256=stored.sha256,
        size_bytes=stored.size_bytes,
        content_type=stored.content_type,
        file_name=stored.file_name,
    )
    return Uploaded(tenant, partner, document, stored.storage_key, data)


def bearer(tenant_id: int, *permissions: str, partner_id: int | None = None) -> dict[str, str]:
    token = mint_token(
        SETTINGS, tenant_id=tenant_id, user_id=7, permissions=permissions, partner_id=partner_id
    )
    return {"Authorization": f"Bearer {token}", "X-Request-Id": "download-test"}


async def download(site: Site, document_id: int | str, headers: dict[str, str]) -> httpx.Response:
    return await site.client.get(f"/documents/{document_id}/content", headers=headers)


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["x-request-id"] == "download-test"
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Document not found.",
                "extensions": {"code": "NOT_FOUND", "requestId": "download-test"},
            }
        ],
    }


def assert_masked_500(response: httpx.Response) -> None:
    assert response.status_code == 500, response.text
    assert response.json()["errors"] == [
        {
            "message": "Internal server error.",
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "download-test"},
        }
    ]


# --- who gets the bytes -------------------------------------------------------------------


async def test_an_admin_who_views_partner_payments_downloads_the_document(site: Site) -> None:
    # Given a stored commission document
    doc = await uploaded_document(site)

    # When an admin with view-partner-payments asks for it
    response = await download(site, doc.document_id, bearer(doc.tenant_id, VIEW_PARTNER_PAYMENTS))

    # Then the bytes come as a private, unsniffable attachment named after the upload
    assert response.status_code == 200, response.text
    assert response.content == PDF
    headers = response.headers
    assert headers["content-type"] == "application/pdf"
    assert headers["content-length"] == str(len(PDF))
    assert headers["content-disposition"] == 'attachment; filename="statement.pdf"'
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "private, no-store"
    assert headers["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    assert headers["x-request-id"] == "download-test"


async def test_the_partner_user_of_the_payments_partner_downloads_the_document(
    site: Site,
) -> None:
    doc = await uploaded_document(site)
    headers = bearer(doc.tenant_id, VIEW_PARTNER_PAYMENTS, partner_id=doc.partner_id)

    response = await download(site, doc.document_id, headers)

    assert response.status_code == 200, response.text
    assert response.content == PDF


async def test_a_non_ascii_file_name_is_sent_in_both_forms(site: Site) -> None:
    doc = await uploaded_document(site, file_name="Überweisung März.pdf")

    response = await download(site, doc.document_id, bearer(doc.tenant_id, VIEW_PAYMENTS))

    assert response.headers["content-disposition"] == (
        'attachment; filename="Uberweisung Marz.pdf"; '
        "filename*=UTF-8''%C3%9Cberweisung%20M%C3%A4rz.pdf"
    )


# --- who does not: the same 404 as a missing document -------------------------------------


async def test_a_document_that_does_not_exist_is_404(site: Site) -> None:
    doc = await uploaded_document(site)
    headers = bearer(doc.tenant_id, VIEW_PAYMENTS)

    assert_not_found(await download(site, doc.document_id + 1_000_000, headers))
    assert_not_found(await download(site, 2**63, headers))  # beyond BIGINT, not a 500


async def test_a_partner_user_of_another_partner_gets_404(site: Site) -> None:
    # Given a document of one partner's payment, and a sibling partner in the same tenant
    doc = await uploaded_document(site)
    other_partner = await site.factory.partner(doc.tenant_id, kind="isv")

    # When the other partner's user asks for it, with every read permission
    headers = bearer(doc.tenant_id, VIEW_PAYMENTS, VIEW_PARTNER_PAYMENTS, partner_id=other_partner)
    response = await download(site, doc.document_id, headers)

    # Then it does not exist for them
    assert_not_found(response)


async def test_another_tenant_gets_404(site: Site) -> None:
    doc = await uploaded_document(site)
    other_tenant = await site.factory.tenant()

    response = await download(site, doc.document_id, bearer(other_tenant, VIEW_PAYMENTS))

    assert_not_found(response)


async def test_a_reader_of_commission_payments_only_gets_404_for_another_kind(
    site: Site,
) -> None:
    # Given a document of an acquiring payment
    doc = await uploaded_document(site, kind="acquiring", status="created")

    # When a reader of partner (commission) payments asks, then it does not exist
    partner_reader = bearer(doc.tenant_id, VIEW_PARTNER_PAYMENTS)
    assert_not_found(await download(site, doc.document_id, partner_reader))
    # while a reader of every kind gets it
    response = await download(site, doc.document_id, bearer(doc.tenant_id, VIEW_PAYMENTS))
    assert response.status_code == 200
    assert response.content == PDF


async def test_a_caller_whose_permissions_read_nothing_gets_404(site: Site) -> None:
    doc = await uploaded_document(site)

    response = await download(site, doc.document_id, bearer(doc.tenant_id, PAY_PARTNERS_PAYMENTS))

    assert_not_found(response)


async def test_a_document_without_a_file_is_404(site: Site) -> None:
    doc = await uploaded_document(site)
    pending = await site.factory.insert(
        m.PaymentDocument,
        tenant_id=doc.tenant_id,
        payment_id=await site.factory.payment(
            doc.tenant_id, kind="commission", status="generated", partner_id=doc.partner_id
        ),
        document_type="invoice",
    )

    response = await download(site, pending, bearer(doc.tenant_id, VIEW_PAYMENTS))

    assert_not_found(response)


async def test_without_credentials_it_is_401(site: Site) -> None:
    doc = await uploaded_document(site)

    response = await download(site, doc.document_id, {"X-Request-Id": "download-test"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="paygraph"'
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "requestId": "download-test"}
    assert PDF not in response.content


async def test_a_guard_that_lets_browsers_through_for_graphiql_still_sends_nothing(
    site: Site, engine: Any
) -> None:
    # Given the endpoint mounted, by mistake, behind a guard that skips authentication for
    # a browser asking for HTML (the GraphiQL page)
    doc = await uploaded_document(site)
    guarded = RequestGuard(
        document_download(read_engine(engine), site.storage),
        verifier=JwtVerifier(SETTINGS),
        managers=no_managers,
        principals=any_principal,
        max_body_bytes=4096,
        graphiql=True,
    )
    app = Starlette(routes=[Route("/documents/{document_id:int}/content", guarded)])

    # When a browser follows a download link, without credentials
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as browser:
        response = await browser.get(
            f"/documents/{doc.document_id}/content",
            headers={"Accept": "text/html", "X-Request-Id": "download-test"},
        )

    # Then the endpoint itself refuses: no principal, no bytes
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert PDF not in response.content


# --- damaged storage ----------------------------------------------------------------------


async def test_a_tampered_file_is_a_masked_500_and_logged(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a stored document whose file was changed on disk afterwards
    doc = await uploaded_document(site)
    (site.storage.root / doc.storage_key).write_bytes(PDF.replace(b"%%EOF", b"%%EVIL"))

    # When its reader downloads it
    with caplog.at_level(logging.ERROR, logger="paygraph.downloads"):
        response = await download(site, doc.document_id, bearer(doc.tenant_id, VIEW_PAYMENTS))

    # Then nothing of the file is sent, the client learns only that it failed
    assert_masked_500(response)
    assert b"EVIL" not in response.content
    assert "sha256" not in response.text
    # and the log says which document and why
    [record] = [r for r in caplog.records if r.name == "paygraph.downloads"]
    assert f"document {doc.document_id}: stored bytes have sha256" in record.getMessage()


async def test_a_file_missing_from_disk_is_a_masked_500(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    doc = await uploaded_document(site, data=b"only this tenant's bytes")
    (site.storage.root / doc.storage_key).unlink()

    with caplog.at_level(logging.ERROR, logger="paygraph.downloads"):
        response = await download(site, doc.document_id, bearer(doc.tenant_id, VIEW_PAYMENTS))

    assert_masked_500(response)
    assert any(r.exc_info and r.exc_info[0] is FileNotFoundError for r in caplog.records)


async def test_a_row_pointing_at_another_tenants_file_is_a_masked_500(site: Site) -> None:
    # Given a document whose row names the file another tenant stored
    theirs = await uploaded_document(site, data=b"the other tenant's bytes")
    ours = await uploaded_document(site)
    crossed = await site.factory.insert(
        m.PaymentDocument,
        tenant_id=ours.tenant_id,
        payment_id=await site.factory.payment(
            ours.tenant_id, kind="commission", status="generated", partner_id=ours.partner_id
        ),
        document_type="invoice",
        storage_key=theirs.storage_key,
        sha256=hashlib.sha256(theirs.data).hexdigest(),
    )

    # When our reader asks for it, then nothing of it is sent
    response = await download(site, crossed, bearer(ours.tenant_id, VIEW_PAYMENTS))

    assert_masked_500(response)
    assert theirs.data not in response.content


# --- the file name header -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "header"),
    [
        pytest.param("a.pdf", 'attachment; filename="a.pdf"', id="plain"),
        pytest.param(None, 'attachment; filename="document"', id="none"),
        pytest.param("../../etc/passwd", 'attachment; filename="passwd"', id="path"),
        pytest.param(
            'C:\\fakepath\\x"\r\nSet-Cookie: a=b.pdf',
            'attachment; filename="x_Set-Cookie_ a=b.pdf"; '
            "filename*=UTF-8''x%22Set-Cookie%3A%20a%3Db.pdf",
            id="quote-and-crlf",
        ),
        pytest.param(
            "\u202eevil.pdf.exe", 'attachment; filename="evil.pdf.exe"', id="bidi-override"
        ),
        pytest.param("...", 'attachment; filename="document"', id="only-dots"),
        pytest.param(
            "счёт.pdf",
            "attachment; filename=\"____.pdf\"; filename*=UTF-8''%D1%81%D1%87%D1%91%D1%82.pdf",
            id="cyrillic",
        ),
        pytest.param(
            "100%.pdf",
            "attachment; filename=\"100_.pdf\"; filename*=UTF-8''100%25.pdf",
            id="percent",
        ),
    ],
)
def test_the_file_name_is_sanitized_for_the_header(file_name: str | None, header: str) -> None:
    assert content_disposition(file_name) == header
