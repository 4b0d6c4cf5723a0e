"""Uploads do not take the server's memory: 20 concurrent 10 MB uploads from a caller who
may not upload, then 20 from one who may, against a real `paygraph serve` process. The
first are refused before their bodies are read; the second stream to disk. The server's
peak resident memory (VmHWM) stays within a generous bound of what it was before
(buffering the bodies took it up by some 500 MB)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.permissions import REQUEST_PARTNER_PAYMENTS, VIEW_PARTNER_PAYMENTS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, running_server
from tests.factories import Factory
from tests.graphql import global_id
from tests.uploads import MULTIPART, document_upload

UPLOADS = 20
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
FILE = b"%PDF-1.7\n" + os.urandom(MAX_UPLOAD_BYTES - 4096)  # the body just under the limit
MAX_GROWTH_BYTES = 100 * 1024 * 1024  # generous: streaming needs a few MB


def memory(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0]) * 1024
    return fields


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
async def test_concurrent_uploads_leave_the_servers_memory_flat(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    # given a running server, and 20 payments of a partner whose user may upload
    f = Factory(engine)
    tenant = await f.tenant()
    partner = await f.partner(tenant, kind="isv")
    user = await f.user(tenant, role="partner", partner_id=partner)
    payments = [
        await f.payment(tenant, kind="commission", status="generated", partner_id=partner)
        for _ in range(UPLOADS)
    ]

    def bearer(*permissions: str) -> dict[str, str]:
        token = mint_token(
            Settings(jwt_secret=TEST_JWT_SECRET),
            tenant_id=tenant,
            user_id=user,
            partner_id=partner,
            permissions=permissions,
        )
        return {"Authorization": f"Bearer {token}", "Content-Type": MULTIPART}

    uploader = bearer(REQUEST_PARTNER_PAYMENTS)
    reader = bearer(VIEW_PARTNER_PAYMENTS)
    bodies = [
        document_upload(
            global_id("Payment", payment),
            file_name="statement.pdf",
            content_type="application/pdf",
            data=FILE,
        )
        for payment in payments
    ]
    assert all(len(body) <= MAX_UPLOAD_BYTES for body in bodies)
    env = {
        "PAYGRAPH_STORAGE_DIR": str(tmp_path),
        "PAYGRAPH_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
    }
    with running_server(database_url, env=env) as server:
        async with httpx.AsyncClient(verify=TLS, base_url=server.url, timeout=120) as client:

            async def post(body: bytes, headers: dict[str, str]) -> httpx.Response:
                return await client.post("/graphql", content=body, headers=headers)

            # (one small upload first, so what it loads is in the baseline)
            small = document_upload(
                global_id("Payment", payments[0]),
                file_name="warm-up.pdf",
                content_type="application/pdf",
                data=FILE[:1000],
            )
            assert "errors" not in (await post(small, uploader)).json()
            before = memory(server.process.pid)

            # when 20 uploads of 10 MB come at once from a caller who may not upload
            refused = await asyncio.gather(*(post(body, reader) for body in bodies))
            after_refused = memory(server.process.pid)
            # and then 20 from one who may
            stored = await asyncio.gather(*(post(body, uploader) for body in bodies))
            after_stored = memory(server.process.pid)

    # then the first are refused and the second stored, byte for byte, in one file
    assert [r.status_code for r in refused] == [403] * UPLOADS
    answers: list[dict[str, Any]] = [r.json() for r in stored]
    assert all("errors" not in answer for answer in answers), answers[0]
    digest = hashlib.sha256(FILE).hexdigest()
    for answer in answers:
        document = answer["data"]["addPaymentDocument"]["document"]
        assert (document["sha256"], document["sizeBytes"]) == (digest, len(FILE))
    assert (tmp_path / str(tenant) / digest[:2] / digest).stat().st_size == len(FILE)
    # and the server's peak memory grew by far less than the 400 MB it was sent
    growth = {
        "refused": after_refused["VmHWM"] - before["VmRSS"],
        "stored": after_stored["VmHWM"] - before["VmRSS"],
    }
    print(f"\nserver memory: before {before}, after {after_refused} / {after_stored}")
    assert growth["refused"] < MAX_GROWTH_BYTES, growth
    assert growth["stored"] < MAX_GROWTH_BYTES, growth
