"""POST /exports/payments: every payment matching a filter, streamed as CSV or NDJSON
(the commission payouts API's `report=true`, without its 1,000-row cap).

The body is a GraphQL document with variables selecting `payments` (or
`partnerPayments`), or the filter as JSON (`{"filter", "sort", "columns", "format"}`);
schema.export_request reads either with the schema's own types. Behind RequestGuard like
/graphql, so the same credentials work; the caller needs the permission of the field it
exports and sees the rows its read scope allows. Rows leave in chunks from a server-side
cursor, so the server's memory does not grow with the export.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
from collections.abc import AsyncGenerator, Sequence
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import request_response
from starlette.types import ASGIApp
from strawberry import Schema

from db.exports import exported_payments
from domain.access import ReadScope
from domain.errors import DomainError, Forbidden
from domain.permissions import authorize
from domain.principal import Principal
from domain.statuses import PaymentKind, PaymentStatus
from domain.throttle import Throttle
from gateway.bounded_stream import BoundedStreamingResponse
from gateway.export_slots import ExportSlots
from gateway.request_guard import error_response
from resolvers.cursors import encode
from schema.export_cost import EXPORT_COST
from schema.export_request import Column, ColumnKind, ExportRequest, export_request
from schema.query_cost import THROTTLED

logger = logging.getLogger("paygraph.exports")

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
ENUMS: dict[str, type[Enum]] = {"kind": PaymentKind, "status": PaymentStatus}
TOO_MANY_EXPORTS = "TOO_MANY_EXPORTS"
EXPORT_RETRY_AFTER_SECONDS = 10


def payment_export(
    engine: AsyncEngine,
    schema: Schema,
    *,
    throttle: Throttle,
    slots: ExportSlots,
    send_timeout: float,
) -> ASGIApp:
    """The ASGI endpoint, to be mounted behind RequestGuard (which authenticates the
    caller, names the request and refuses oversized or non-JSON bodies). `engine` is
    the exports' own (db.exports.export_engine), `slots` caps how many run at once and
    `send_timeout` how long a chunk may wait on a client that stopped reading."""

    async def export(request: Request) -> Response:
        request_id: str = request.state.request_id
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            return error_response(401, "UNAUTHENTICATED", "Missing credentials.", request_id)
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError):
            message = "The request body must be a JSON object."
            return error_response(400, "BAD_REQUEST", message, request_id)
        try:
            wanted = export_request(schema, body, request.query_params.get("format"))
            authorize(principal, wanted.operation)
        except DomainError as error:
            status = 403 if isinstance(error, Forbidden) else 400
            return error_response(status, error.code, error.message, request_id)
        if refusal := await _throttled(throttle, principal, request_id):
            return refusal
        slot = slots.take(principal)
        if slot is None:
            return _too_many(slots, request_id)
        chunks = exported_payments(
            engine,
            ReadScope.of(principal),
            wanted.where,
            wanted.order,
            [column.column for column in wanted.columns],
        )
        return BoundedStreamingResponse(
            _encoded(wanted, chunks, request_id),
            send_timeout=send_timeout,
            on_close=slot.release,
            label=f"payment export (request {request_id})",
            media_type=MEDIA_TYPES[wanted.format],
            headers={
                "Content-Disposition": f'attachment; filename="payments.{wanted.format}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                "X-Request-Id": request_id,
            },
        )

    return request_response(export)


async def _throttled(throttle: Throttle, principal: Principal, request_id: str) -> Response | None:
    """An export draws EXPORT_COST (schema/export_cost.py) from the caller's bucket, the one its
    GraphQL operations draw from; out of points, 429 THROTTLED with Retry-After."""
    draw = await throttle.bucket(principal).take(EXPORT_COST)
    if draw.allowed:
        return None
    message = draw.throttled_message(f"an export costs {EXPORT_COST}")
    response = error_response(
        429, THROTTLED, message, request_id, cost=EXPORT_COST, retryAfter=draw.retry_in
    )
    response.headers["Retry-After"] = draw.retry_after_header
    return response


def _too_many(slots: ExportSlots, request_id: str) -> Response:
    """429 TOO_MANY_EXPORTS: the caller, or the whole process, runs as many exports as
    it may."""
    message = (
        f"Too many exports at once: at most {slots.per_credential} per credential and "
        f"{slots.overall} in all run together; retry when one has finished."
    )
    response = error_response(429, TOO_MANY_EXPORTS, message, request_id)
    response.headers["Retry-After"] = str(EXPORT_RETRY_AFTER_SECONDS)
    return response


async def _encoded(
    wanted: ExportRequest, chunks: AsyncGenerator[Sequence[Any], None], request_id: str
) -> AsyncGenerator[bytes, None]:
    """The rows as bytes, one chunk at a time. A failure mid-stream is logged and cuts
    the response short (no final chunk), so a client cannot take it for a whole file.
    Closing this generator closes `chunks` at once (and with it the cursor)."""
    write = _csv_chunk if wanted.format == "csv" else _ndjson_chunk
    async with contextlib.aclosing(chunks):
        if wanted.format == "csv":
            yield _csv_line([column.name for column in wanted.columns])
        try:
            async for rows in chunks:
                yield write(wanted.columns, rows)
        except Exception:
            logger.exception("payment export failed mid-stream (request %s)", request_id)
            raise


def _csv_line(values: Sequence[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().encode()


def _csv_chunk(columns: Sequence[Column], rows: Sequence[Any]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(
            [
                "" if value is None else _value(c, value, text=True)
                for c, value in zip(columns, row, strict=True)
            ]
        )
    return buffer.getvalue().encode()


def _ndjson_chunk(columns: Sequence[Column], rows: Sequence[Any]) -> bytes:
    lines = [
        json.dumps(
            {
                c.name: None if value is None else _value(c, value, text=False)
                for c, value in zip(columns, row, strict=True)
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )
        for row in rows
    ]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _value(column: Column, value: Any, *, text: bool) -> Any:
    """A cell as GraphQL would show it: global ids, enum names, ISO dates in UTC, money
    in minor units (a string in NDJSON, like BigInt)."""
    kind = column.kind
    if kind is ColumnKind.GLOBAL_ID:
        return encode("Payment", value)
    if kind is ColumnKind.ENUM:
        return ENUMS[column.column](value).name
    if kind is ColumnKind.BIG_INT:
        return str(value)
    if kind in (ColumnKind.DATETIME, ColumnKind.DATE):
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind is ColumnKind.BOOLEAN and text:
        return "true" if value else "false"
    return value
