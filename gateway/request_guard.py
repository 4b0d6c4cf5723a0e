"""The HTTP edge in front of /graphql: gives every request an id, authenticates it (a
bearer JWT or a manager's X-Api-Token) and refuses oversized bodies and JSON-array
batches, all before any GraphQL work. Refusals are GraphQL-shaped JSON with a code."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.api_tokens import looks_like_api_token
from domain.errors import Unauthenticated
from domain.principal import Principal
from gateway.auth import JwtVerifier

logger = logging.getLogger("paygraph.auth")

REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
BAD_REQUEST = "BAD_REQUEST"

ManagerLookup = Callable[[str], Awaitable[Principal | None]]


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: JwtVerifier,
        managers: ManagerLookup,
        max_body_bytes: int,
        graphiql: bool,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.managers = managers
        self.max_body_bytes = max_body_bytes
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # No subscriptions are served: refuse websockets rather than pass them on.
            await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope)
        request_id = _request_id(request)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        if self.graphiql and _is_graphiql_page(request):
            await self.app(scope, receive, send)
            return
        try:
            state["principal"] = await self._authenticate(request)
        except Unauthenticated as error:
            response = _error(401, error.code, error.message, request_id)
            response.headers["WWW-Authenticate"] = 'Bearer realm="paygraph"'
            await response(scope, receive, send)
            return
        except Exception:  # e.g. the database is down while checking an API token
            logger.exception("authentication failed unexpectedly (request %s)", request_id)
            message = "Internal server error."
            await _error(500, "INTERNAL_SERVER_ERROR", message, request_id)(scope, receive, send)
            return
        body = await self._read_body(request, receive)
        if body is None:
            message = f"The request body is larger than {self.max_body_bytes} bytes."
            await _error(413, REQUEST_TOO_LARGE, message, request_id)(scope, receive, send)
            return
        problem = _json_problem(request, body)
        if problem is not None:
            await _error(400, *problem, request_id)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _authenticate(self, request: Request) -> Principal:
        api_token = request.headers.get("x-api-token")
        if api_token is None:
            return await self.verifier.principal(request.headers.get("authorization"))
        if "authorization" in request.headers:
            raise Unauthenticated("Send one credential: Authorization or X-Api-Token, not both.")
        token = api_token.strip()
        principal = await self.managers(token) if looks_like_api_token(token) else None
        if principal is None:
            raise Unauthenticated("Invalid API token.")
        return principal

    async def _read_body(self, request: Request, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _json_problem(request: Request, body: bytes) -> tuple[str, str] | None:
    """(code, message) when a JSON body is unusable: not JSON, nested beyond the parser,
    or an array (a batch, in any encoding JSON allows). Other content types are left to
    Strawberry, which refuses what it does not support."""
    if request.method != "POST" or "json" not in request.headers.get("content-type", ""):
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return BAD_REQUEST, "The request body is not a JSON object."
    if isinstance(parsed, list):
        return BATCHING_NOT_SUPPORTED, (
            "Send one operation per request; JSON-array batches are not supported."
        )
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
        and "query" not in request.query_params
    )


def _error(status: int, code: str, message: str, request_id: str) -> JSONResponse:
    body: dict[str, Any] = {
        "data": None,
        "errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}],
    }
    return JSONResponse(body, status_code=status, headers={"X-Request-Id": request_id})
