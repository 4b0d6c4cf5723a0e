"""GET /documents/{document_id}/content: the bytes of an uploaded payment document.

The row is read through the caller's read scope, exactly like the document in GraphQL,
so a document of another tenant, another partner or a payment kind the caller cannot
read answers the same 404 as one that does not exist. The bytes are checked against the
recorded sha256 before they leave, and always come as an attachment that browsers must
not sniff or render.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp

from db import models as m
from db.models.base import table_of
from db.scopes import visible
from domain.access import ReadScope
from domain.principal import Principal
from domain.storage import DocumentStorage
from gateway.request_guard import error_response
from resolvers.cursors import MAX_ROW_ID

logger = logging.getLogger("paygraph.downloads")

DOCUMENT = table_of(m.PaymentDocument)
FALLBACK_CONTENT_TYPE = "application/octet-stream"
FALLBACK_FILE_NAME = "document"
NOT_FOUND_MESSAGE = "Document not found."

# type "/" subtype, optionally with parameters: nothing that could split a header.
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|\"[^\"\\\x00-\x1f\x7f]*\"))*"
)
# What may stand in the quoted ASCII `filename=`; anything else becomes "_".
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 !#$&'()+,.;=@\[\]^_`{}~-]")
# RFC 5987 attr-chars that need no percent-encoding in `filename*`.
_ATTR_CHARS = "!#$&+-.^_`|~"
MAX_FILE_NAME = 200


def document_download(reads: AsyncEngine, storage: DocumentStorage) -> ASGIApp:
    """The ASGI endpoint for `GET /documents/{document_id:int}/content`, to be mounted
    behind RequestGuard, which authenticates the caller and names the request."""

    async def download(request: Request) -> Response:
        request_id: str = request.state.request_id
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            # Fail closed if mounted without authentication (e.g. a guard that lets a
            # browser's text/html GET through for GraphiQL).
            message = "Missing credentials."
            return error_response(401, "UNAUTHENTICATED", message, request_id)
        document_id: int = request.path_params["document_id"]
        try:
            row = await _visible_document(reads, ReadScope.of(principal), document_id)
        except Exception:  # e.g. the database is down: masked like any internal error
            logger.exception(
                "document %s could not be looked up (request %s)", document_id, request_id
            )
            return _internal_error(request_id)
        if row is None or row.storage_key is None:
            return error_response(404, "NOT_FOUND", NOT_FOUND_MESSAGE, request_id)
        if not row.storage_key.startswith(f"{row.tenant_id}/"):
            # Keys are filed by tenant: never serve another tenant's file, whatever the row says.
            logger.error(
                "document %s points at another tenant's file (request %s)", row.id, request_id
            )
            return _internal_error(request_id)
        try:
            data = await storage.get(row.storage_key)
            digest = await asyncio.to_thread(_sha256, data)
        except Exception:
            logger.exception("document %s could not be read (request %s)", row.id, request_id)
            return _internal_error(request_id)
        if digest != (row.sha256 or "").lower():
            logger.error(
                "document %s: stored bytes have sha256 %s, the row records %s (request %s)",
                row.id,
                digest,
                row.sha256,
                request_id,
            )
            return _internal_error(request_id)
        return Response(
            data,
            headers={
                "Content-Type": _content_type(row.content_type),
                "Content-Disposition": content_disposition(row.file_name),
                "X-Content-Type-Options": "nosniff",
                # Opened directly anyway, it may run nothing and load nothing.
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-store",
                "ETag": f'"{digest}"',
                "X-Request-Id": request_id,
            },
        )

    return request_response(download)


@dataclass(frozen=True, slots=True)
class _DocumentFile:
    id: int
    tenant_id: int
    storage_key: str | None
    sha256: str | None
    content_type: str | None
    file_name: str | None


async def _visible_document(
    reads: AsyncEngine, scope: ReadScope, document_id: int
) -> _DocumentFile | None:
    if not 0 < document_id <= MAX_ROW_ID:
        return None  # beyond BIGINT: no such row, and no driver overflow error
    statement = select(
        DOCUMENT.c.id,
        DOCUMENT.c.tenant_id,
        DOCUMENT.c.storage_key,
        DOCUMENT.c.sha256,
        DOCUMENT.c.content_type,
        DOCUMENT.c.file_name,
    ).where(DOCUMENT.c.id == document_id, visible(DOCUMENT, scope))
    async with reads.connect() as connection:
        row = (await connection.execute(statement)).one_or_none()
    return None if row is None else _DocumentFile(**row._mapping)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _internal_error(request_id: str) -> Response:
    message = "Internal server error."
    return error_response(500, "INTERNAL_SERVER_ERROR", message, request_id)


def _content_type(stored: str | None) -> str:
    """The recorded media type when it is one; the generic binary type otherwise."""
    if stored and _MEDIA_TYPE.fullmatch(stored.strip()):
        return stored.strip()
    return FALLBACK_CONTENT_TYPE


def content_disposition(file_name: str | None) -> str:
    """`attachment` with the file's own name (RFC 6266): a plain ASCII `filename` every
    client understands and, when the name needs more, the UTF-8 `filename*` as well.
    Folders, control characters, quotes and backslashes never reach the header."""
    name = _clean_file_name(file_name)
    ascii_name = _ascii_file_name(name)
    header = f'attachment; filename="{ascii_name}"'
    if name != ascii_name:
        header += f"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"
    return header


def _clean_file_name(file_name: str | None) -> str:
    name = unicodedata.normalize("NFC", file_name or "")
    name = re.split(r"[/\\]", name)[-1]  # a browser's "C:\fakepath\x.pdf" included
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")  # controls, BIDI
    name = name.strip().lstrip(".").strip()[:MAX_FILE_NAME]
    return name or FALLBACK_FILE_NAME


def _ascii_file_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_name = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_name = _UNSAFE_ASCII.sub("_", ascii_name.encode("ascii", "replace").decode("ascii"))
    ascii_name = ascii_name.replace("?", "_")  # from characters with no ASCII letter
    return ascii_name.strip().lstrip(".") or FALLBACK_FILE_NAME
