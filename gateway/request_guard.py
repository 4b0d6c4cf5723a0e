"""The HTTP edge in front of /graphql (and the document downloads): gives every request
an id, authenticates it (a bearer JWT or a manager's X-Api-Token) and refuses oversized
bodies and JSON-array batches, all before any GraphQL work. Refusals are GraphQL-shaped
JSON with a code.

A JSON body is small (`max_body_bytes`) and read whole before the app sees it. A GraphQL
multipart request (a file upload), where the guard is given an `upload_rule`, is refused
with 403 before a byte of its body is read unless the caller's permissions satisfy that
rule; then it streams on to the app (which spools files to disk), counted, and is cut
off with 413 once past `max_upload_bytes`: it is never held in memory whole."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.api_tokens import looks_like_api_token
from domain.errors import Unauthenticated
from domain.permissions import Rule
from domain.principal import Principal
from gateway.auth import JwtVerifier
from gateway.edge_headers import EDGE_HEADERS
from gateway.media_types import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    content_type,
    response_media_type,
)

logger = logging.getLogger("paygraph.auth")

REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
BAD_REQUEST = "BAD_REQUEST"
MULTIPART_FORM_DATA = "multipart/form-data"
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 15.0
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"

ManagerLookup = Callable[[str], Awaitable[Principal | None]]
# Raises Unauthenticated when a token's principal names what does not exist
# (gateway.known_principals).
PrincipalCheck = Callable[[Principal], Awaitable[None]]


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: JwtVerifier,
        managers: ManagerLookup,
        principals: PrincipalCheck,
        max_body_bytes: int,
        graphiql: bool,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        upload_rule: Rule | None = None,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        self.app = app
        # Seconds the body may stop arriving (between two of its chunks): a client that
        # sends its headers and then drips or withholds the body is answered 408.
        self.body_timeout = body_timeout
        # Who may send a multipart request (schema.uploads.upload_rule); without one,
        # a multipart body is a body like any other, held to `max_body_bytes`.
        self.upload_rule = upload_rule
        self.credentials = Credentials(verifier, managers, principals)
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Websockets (subscriptions) authenticate in their own `connection_init`
            # (gateway.live_connection) and are routed past the guard.
            await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope)
        request_id = _request_id(request)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # The media type of a refusal, as of any answer (gateway.media_types).
        state["media_type"] = media_type = response_media_type(request.headers.get("accept"))
        if self.graphiql and _is_graphiql_page(request):
            await self.app(scope, receive, send)
            return
        try:
            state["principal"] = await self._authenticate(request)
        except Unauthenticated as error:
            response = error_response(
                401, error.code, error.message, request_id, media_type=media_type
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="paygraph"'
            await response(scope, receive, send)
            return
        except Exception:  # e.g. the database is down while checking an API token
            logger.exception("authentication failed unexpectedly (request %s)", request_id)
            message = "Internal server error."
            response = error_response(
                500, "INTERNAL_SERVER_ERROR", message, request_id, media_type=media_type
            )
            await response(scope, receive, send)
            return
        if self.upload_rule is not None and _is_multipart(request):
            await self._pass_upload(request, scope, receive, send)
            return
        limit = self.max_body_bytes
        try:
            body = await _read_body(request, _idle_bounded(receive, self.body_timeout), limit)
        except BodyStalled:
            await self._stalled(scope, receive, send)
            return
        if body is None:
            message = f"The request body is larger than {limit} bytes."
            refusal = error_response(
                413, REQUEST_TOO_LARGE, message, request_id, media_type=media_type
            )
            await refusal(scope, receive, send)
            return
        problem = _json_problem(request, body)
        if problem is not None:
            refusal = error_response(400, *problem, request_id, media_type=media_type)
            await refusal(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _pass_upload(
        self, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """An upload: authorized before its body is read, then streamed to the app
        through a byte count that stops it past the upload limit."""
        request_id: str = scope["state"]["request_id"]
        media_type: str = scope["state"]["media_type"]
        principal: Principal = scope["state"]["principal"]
        rule = self.upload_rule
        assert rule is not None
        if not rule.allows(principal.permissions):
            message = f"Uploads need the permission {' or '.join(sorted(rule.any_of))}."
            refusal = error_response(403, "FORBIDDEN", message, request_id, media_type=media_type)
            await refusal(scope, receive, send)
            return
        limit = self.max_upload_bytes
        too_large = error_response(
            413,
            REQUEST_TOO_LARGE,
            f"The request body is larger than {limit} bytes.",
            request_id,
            media_type=media_type,
        )
        if _declares_more_than(request, limit):
            await too_large(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(
                scope, _counted(_idle_bounded(receive, self.body_timeout), limit), watched
            )
        except BodyTooLarge:
            if started:
                raise
            await too_large(scope, receive, send)
        except BodyStalled:
            if started:
                raise
            await self._stalled(scope, receive, send)

    async def _stalled(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body stopped arriving for {self.body_timeout:g} seconds."
        request_id: str = scope["state"]["request_id"]
        media_type: str = scope["state"]["media_type"]
        refusal = error_response(408, REQUEST_TIMEOUT, message, request_id, media_type=media_type)
        await refusal(scope, receive, send)

    async def _authenticate(self, request: Request) -> Principal:
        principal, _ = await self.credentials.verified(
            request.headers.get("authorization"), request.headers.get("x-api-token")
        )
        return principal


class Credentials:
    """How a caller's credential becomes its Principal, for HTTP requests and websocket
    connections alike: a bearer JWT (whose user and partner must exist) or a manager's
    X-Api-Token, never both."""

    def __init__(
        self, verifier: JwtVerifier, managers: ManagerLookup, principals: PrincipalCheck
    ) -> None:
        self.verifier = verifier
        self.managers = managers
        self.principals = principals

    async def verified(
        self, authorization: str | None, api_token: str | None
    ) -> tuple[Principal, float | None]:
        """The principal, and when its credential expires (None: a manager token, which
        lasts until revoked). Raises Unauthenticated."""
        if api_token is None:
            principal, expires = await self.verifier.verified(authorization)
            await self.principals(principal)
            return principal, expires
        if authorization is not None:
            raise Unauthenticated("Send one credential: Authorization or X-Api-Token, not both.")
        token = api_token.strip()
        manager = await self.managers(token) if looks_like_api_token(token) else None
        if manager is None:
            raise Unauthenticated("Invalid API token.")
        return manager, None


async def _read_body(request: Request, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit`."""
    if _declares_more_than(request, limit):
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _declares_more_than(request: Request, limit: int) -> bool:
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


class BodyTooLarge(Exception):
    """The streamed body passed its limit (not a ValueError: Strawberry turns those into
    a 400 while it parses a multipart body)."""


class BodyStalled(Exception):
    """No part of the body arrived within the body timeout."""


def _idle_bounded(receive: Receive, seconds: float) -> Receive:
    """`receive`, raising BodyStalled when the client sends nothing for `seconds`."""

    async def bounded() -> Message:
        try:
            async with asyncio.timeout(seconds):
                return await receive()
        except TimeoutError:
            raise BodyStalled(f"no body for {seconds:g} s") from None

    return bounded


def _counted(receive: Receive, limit: int) -> Receive:
    """`receive`, raising BodyTooLarge as soon as the body passes `limit` bytes."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge(f"more than {limit} bytes")
        return message

    return counted


def _is_multipart(request: Request) -> bool:
    """A GraphQL multipart request (an upload): a POST whose media type, before any
    parameter, is multipart/form-data. Strawberry reads the same prefix, so a body it
    would parse as JSON never gets the larger limit."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0]
    return request.method == "POST" and media_type.strip().lower() == MULTIPART_FORM_DATA


def _json_problem(request: Request, body: bytes) -> tuple[str, str] | None:
    """(code, message) when a JSON body is unusable: not JSON, nested beyond the parser,
    an array (a batch, in any encoding JSON allows) or another value that is not an
    object. Checked for every POST whose
    content type mentions JSON, a wider net than Strawberry's own test, except multipart
    requests (whose boundary may happen to contain "json"). Other content types are left
    to Strawberry, which refuses what it does not support."""
    content_type = request.headers.get("content-type", "").lower()
    if request.method != "POST" or "json" not in content_type or _is_multipart(request):
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return BAD_REQUEST, "The request body is not a JSON object."
    if isinstance(parsed, list):
        return BATCHING_NOT_SUPPORTED, (
            "Send one operation per request; JSON-array batches are not supported."
        )
    if not isinstance(parsed, dict):  # null, a number, a string, true or false
        return BAD_REQUEST, "The request body is not a JSON object."
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if given and len(given) <= 64 and given.isprintable() else uuid.uuid4().hex


def _is_graphiql_page(request: Request) -> bool:
    """A browser asking for the GraphiQL page (no operation in the URL)."""
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and not names_an_operation(request.query_params)
    )


# The query parameters of a GET that name an operation to run (its text, a trusted
# document's id, Apollo's persistedQuery extension).
OPERATION_PARAMETERS = ("query", "documentId", "extensions")


def names_an_operation(parameters: Mapping[str, Any]) -> bool:
    """Whether a GET with these query parameters asks for an operation (rather than the
    GraphiQL page)."""
    return any(name in parameters for name in OPERATION_PARAMETERS)


def error_body(
    code: str, message: str, request_id: str | None, **extensions: Any
) -> dict[str, Any]:
    """A whole answer replaced by one error, in the GraphQL response shape: no data, the
    code, the request id and any further `extensions` (e.g. `retryAfter`)."""
    found = {"code": code, "requestId": request_id, **extensions}
    return {"data": None, "errors": [{"message": message, "extensions": found}]}


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str,
    *,
    media_type: str = APPLICATION_JSON,
    **extensions: Any,
) -> JSONResponse:
    """A refusal at the edge: `error_body` with its HTTP status and headers, in
    `media_type`; application/graphql-response+json has no `data` entry (nothing ran)."""
    body = error_body(code, message, request_id, **extensions)
    if media_type == GRAPHQL_RESPONSE_JSON:
        del body["data"]
    headers = {"X-Request-Id": request_id, **EDGE_HEADERS}
    return JSONResponse(
        body, status_code=status, headers=headers, media_type=content_type(media_type)
    )
