"""The Starlette application: /graphql (GraphiQL for browsers), /healthz and /readyz."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from db.engine import create_engine, read_engine
from db.loaders import SqlReadLoaders
from domain.errors import Unauthenticated
from gateway.auth import principal_from_bearer
from gateway.settings import Settings
from resolvers.context import Context
from schema.app_schema import schema


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if given and len(given) <= 64 and given.isprintable() else uuid.uuid4().hex


class PayGraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with PayGraph's context: principal, loaders, request id."""

    def __init__(self, engine: AsyncEngine, **options: Any) -> None:
        super().__init__(schema, **options)
        self._read_engine = read_engine(engine)

    async def get_context(self, request: Any, response: Any) -> Context | None:
        principal = getattr(request.state, "principal", None)
        if principal is None:
            return None  # only the GraphiQL page gets here; it executes nothing
        request_id = request.state.request_id
        if response is not None:
            response.headers["X-Request-Id"] = request_id
        return Context(
            principal=principal,
            loaders=SqlReadLoaders(self._read_engine, principal.tenant_id),  # type: ignore[arg-type]
            request_id=request_id,
            request=request,
            response=response,
        )


class Authenticated:
    """Rejects a GraphQL request without a valid credential with HTTP 401 before any
    GraphQL work; the GraphiQL page itself loads without one."""

    def __init__(self, app: PayGraphGraphQL, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = _request_id(request)
        scope.setdefault("state", {})["request_id"] = request_id
        if not _is_graphiql_page(request):
            try:
                principal = principal_from_bearer(
                    self.settings, request.headers.get("authorization")
                )
            except Unauthenticated as error:
                await _unauthenticated(error, request_id)(scope, receive, send)
                return
            scope["state"]["principal"] = principal
        await self.app(scope, receive, send)


def _is_graphiql_page(request: Request) -> bool:
    """A browser asking for the GraphiQL page (no operation in the URL)."""
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


def _unauthenticated(error: Unauthenticated, request_id: str) -> Response:
    body = {
        "data": None,
        "errors": [{"message": error.message, "extensions": {"code": error.code}}],
    }
    return JSONResponse(
        body,
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="paygraph"', "X-Request-Id": request_id},
    )


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    owns_engine = engine is None
    engine = engine or create_engine(settings.database_url)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        if owns_engine:
            await engine.dispose()

    graphql = PayGraphGraphQL(
        engine,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,
    )
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", Authenticated(graphql, settings), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    return app
