"""The Starlette application: /graphql (GraphiQL for browsers), /healthz and /readyz."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from db.credentials import manager_principal
from db.engine import create_engine, read_engine
from db.loaders import SqlReadLoaders
from domain.access import ReadScope
from domain.principal import Principal
from gateway.auth import JwtVerifier
from gateway.request_guard import RequestGuard
from gateway.settings import Settings
from resolvers.context import Context
from schema.app_schema import build_schema


class PayGraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with PayGraph's context: principal, loaders, request id."""

    def __init__(self, engine: AsyncEngine, settings: Settings, **options: Any) -> None:
        schema = build_schema(settings.limits, introspection=settings.introspection)
        super().__init__(schema, **options)
        self._read_engine = engine

    async def get_context(self, request: Any, response: Any) -> Context | None:
        principal = getattr(request.state, "principal", None)
        if principal is None:
            return None  # only the GraphiQL page gets here; it executes nothing
        request_id = request.state.request_id
        if response is not None:
            response.headers["X-Request-Id"] = request_id
        return Context(
            principal=principal,
            loaders=SqlReadLoaders(self._read_engine, ReadScope.of(principal)),  # type: ignore[arg-type]
            request_id=request_id,
            request=request,
            response=response,
        )


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    owns_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    reads = read_engine(engine)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def managers(token: str) -> Principal | None:
        return await manager_principal(reads, token)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        if owns_engine:
            await engine.dispose()

    graphql = PayGraphGraphQL(
        reads,
        settings,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=False,
    )
    guarded = RequestGuard(
        graphql,
        verifier=JwtVerifier(settings),
        managers=managers,
        max_body_bytes=settings.limits.max_body_bytes,
        graphiql=settings.graphiql,
    )
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Api-Token", "X-Request-Id"],
                expose_headers=["X-Request-Id"],
                max_age=600,
            )
        )
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", guarded, methods=["GET", "POST"]),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.settings = settings
    return app
