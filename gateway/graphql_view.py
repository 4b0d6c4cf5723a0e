"""PayGraph's GraphQL view over HTTP: Strawberry's ASGI app with the request's context
(principal, loaders, compiled reads, budget, throttle), the trusted document it names,
its media type, and its deadline."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from db.compiled_reads import SqlCompiledReads, compiles
from db.loaders import SqlReadLoaders
from domain.access import ReadScope
from domain.payment_changes import PaymentFeed
from domain.principal import Principal
from domain.throttle import Throttle
from gateway.budget_answers import RESPONSE_TOO_LARGE, timed_out, too_large
from gateway.client_ip import client_ip, trusted_networks
from gateway.cost_settings import CostSettings
from gateway.graphiql_page import graphiql_page
from gateway.graphql_response import (
    HTTP_ERROR_CODES,
    METHOD_NOT_ALLOWED,
    Refusal,
    request_error_status,
)
from gateway.live_connection import LiveConnection, LiveConnections, TextWebSocketAdapter
from gateway.media_types import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    content_type,
    response_media_type,
)
from gateway.request_budget import RequestBudget
from gateway.request_guard import BAD_REQUEST, names_an_operation
from gateway.request_observer import record_error, record_execution
from gateway.settings import Settings
from gateway.trusted_documents import TrustedDocuments, resolve, sent_document_id
from gateway.workflows import Workflows
from resolvers.context import Context
from schema.app_schema import build_schema
from schema.compiled_execution import encode
from schema.query_cost import CostLimit


class PayGraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with PayGraph's context: principal, loaders, request id.
    Over a websocket it speaks graphql-transport-ws only (gateway.live_connection)."""

    graphql_transport_ws_handler_class = LiveConnection
    websocket_adapter_class = TextWebSocketAdapter  # type: ignore[assignment]

    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        workflows: Workflows,
        budget: RequestBudget,
        cost: CostSettings,
        throttle: Throttle,
        schema_extensions: Sequence[Any] = (),
        documents: TrustedDocuments | None = None,
        live: Callable[[PayGraphGraphQL], LiveConnections] | None = None,
        **options: Any,
    ) -> None:
        schema = build_schema(
            settings.limits,
            introspection=settings.introspection,
            cost=CostLimit(cost.max_query_cost),
            outer=schema_extensions,
            speedups=settings.resolver_speedups,
        )
        super().__init__(
            schema,
            multipart_uploads_enabled=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            **options,
        )
        self._read_engine = engine
        self._workflows = workflows
        self._trusted_proxies = trusted_networks(settings.trusted_proxies)
        self._budget = budget
        self._throttle = throttle
        self._compiled = settings.compiled_reads and compiles(engine)
        self._documents = documents if documents is not None else TrustedDocuments()
        # The websocket connections' shared state (None: subscriptions are not served).
        self.live = live(self) if live is not None else None
        if self.live is not None:
            self.max_subscriptions_per_connection = self.live.settings.max_subscriptions

    def live_context(
        self, principal: Principal, websocket: Any, overflowed: Callable[[], None]
    ) -> Context:
        """A websocket connection's context (live_context)."""
        assert self.live is not None
        context = live_context(self._read_engine, principal, self.live.hub.feed(overflowed))
        context.request = websocket
        context.throttle = self._throttle.bucket(principal)
        return context

    async def render_graphql_ide(self, request: Request) -> Response:
        """PayGraph's GraphiQL page, served with its assets from the package (Strawberry's
        loads them from a CDN)."""
        return graphiql_page()

    def encode_json(self, data: object) -> bytes:
        # orjson writes a page of 100 payments in 0.06 ms, the standard library in 0.9 ms;
        # the bytes are the same for ASCII text (orjson leaves other text unescaped UTF-8).
        # Compiled answers go in as their statements wrote them.
        return encode(data)

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        """Strawberry's execution of one operation, within the request's deadline. When
        it passes, the operation is cancelled where it waits (a statement, a lock, the
        pool): units of work roll back, and the loader batches still running are
        cancelled too, so the request leaves no connection, lock or task behind.

        The document run is the one the request names (gateway.trusted_documents); a
        mutation sent with GET is refused with 405, as GraphQL over HTTP requires."""
        context: Context = kwargs["context"]
        adapter = kwargs["request_adapter"]
        kwargs["request_data"] = await self._document_to_run(
            adapter, kwargs["request_data"], context
        )
        try:
            async with asyncio.timeout(self._budget.request_timeout) as deadline:
                result = await super().execute_single(*args, **kwargs)
        except TimeoutError:
            if not deadline.expired():
                raise
            result = timed_out(self._budget, context.request_id, context.cost)
        except HTTPException as error:
            if adapter.method == "GET" and isinstance(error.__cause__, InvalidOperationTypeError):
                message = "Only queries may be sent with GET; send mutations with POST."
                raise Refusal(405, METHOD_NOT_ALLOWED, message, {"Allow": "POST"}) from error
            raise
        finally:
            context.loaders.cancel_pending()  # type: ignore[attr-defined]
        record_execution(context, result)  # for the request's metrics and log line
        return result

    async def _document_to_run(
        self, adapter: Any, data: GraphQLRequestData, context: Context
    ) -> GraphQLRequestData:
        """The request with the text of the trusted document it names (or refused); the
        context learns the trusted document's operation name."""
        if not isinstance(data.operation_name, str | None):
            message = "The GraphQL operation's `operationName` must be a string or null."
            raise Refusal(400, BAD_REQUEST, message)
        resolved = resolve(
            self._documents,
            query=data.query,
            document_id=await sent_document_id(adapter),
            extensions=data.extensions,
        )
        if resolved.trusted is not None:
            context.trusted_operation = resolved.trusted.operation_name(data.operation_name)
        if resolved.query is data.query:
            return data
        return dataclasses.replace(data, query=resolved.query)

    def should_render_graphql_ide(self, request: Any) -> bool:
        """Strawberry's test, and no operation named in the URL: a GET naming a trusted
        document runs it whatever its Accept header (`*/*` included)."""
        return super().should_render_graphql_ide(request) and not names_an_operation(
            request.query_params
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """Strawberry's, carrying the media type the answer will be in (the client's
        Accept header decides, gateway.graphql_response)."""
        response = await super().get_sub_response(request)
        response.media_type = response_media_type(request.headers.get("accept"))
        return response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """Strawberry's JSON response in the media type the client accepts: with
        application/graphql-response+json, a request error has a 4xx status and no
        data. Unless its body passes the response cap: then one RESPONSE_TOO_LARGE error
        instead, with no data."""
        media_type = sub_response.media_type or APPLICATION_JSON
        if media_type == GRAPHQL_RESPONSE_JSON and isinstance(response_data, dict):
            status = request_error_status(response_data)
            if status is not None:
                response_data = {k: v for k, v in response_data.items() if k != "data"}
                sub_response.status_code = status
        response = super().create_response(response_data, sub_response)
        response.headers["Content-Type"] = content_type(media_type)
        size = len(response.body)
        if size > self._budget.max_response_bytes:
            request_id = sub_response.headers.get("X-Request-Id")
            extensions = (
                response_data.get("extensions") if isinstance(response_data, dict) else None
            )
            answer = too_large(self._budget, size, request_id, extensions)
            record_error(RESPONSE_TOO_LARGE)
            response.body = self.encode_json(answer)
            response.headers["Content-Length"] = str(len(response.body))
        return response

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Strawberry's handling of one request, then the upload's spooled files closed
        (and their disk space freed) at once: Strawberry leaves them to the collector."""
        try:
            return await super().run(request, *args, **kwargs)
        except Refusal as refusal:
            return refusal.response(request.state.request_id, _media_type(request))
        except HTTPException as error:
            # Strawberry's own refusals (no query, a body it cannot read, ...), with a code.
            code = HTTP_ERROR_CODES.get(error.status_code, BAD_REQUEST)
            refused = Refusal(error.status_code, code, error.reason)
            return refused.response(request.state.request_id, _media_type(request))
        finally:
            if isinstance(request, Request):
                await request.close()

    async def get_context(self, request: Any, response: Any) -> Context | None:
        principal = getattr(request.state, "principal", None)
        if principal is None:
            return None  # only the GraphiQL page gets here; it executes nothing
        request_id = request.state.request_id
        if response is not None:
            response.headers["X-Request-Id"] = request_id
        scope = ReadScope.of(principal)
        return Context(
            principal=principal,
            loaders=SqlReadLoaders(self._read_engine, scope),  # type: ignore[arg-type]
            compiled=SqlCompiledReads(self._read_engine, scope) if self._compiled else None,
            request_id=request_id,
            request=request,
            response=response,
            commission=self._workflows.commission,
            resellers=self._workflows.resellers,
            invoices=self._workflows.invoices,
            client_ip=client_ip(
                request.client.host if request.client else None,
                request.headers.get("x-forwarded-for"),
                self._trusted_proxies,
            ),
            throttle=self._throttle.bucket(principal),
        )


def _media_type(request: Request) -> str:
    return response_media_type(request.headers.get("accept"))


def live_context(engine: AsyncEngine, principal: Principal, feed: PaymentFeed) -> Context:
    """A websocket connection's context: read-only, following `feed`, its deliveries read
    through fresh loaders of the caller's scope (resolvers.live)."""
    scope = ReadScope.of(principal)

    def loaders() -> Any:
        return SqlReadLoaders(engine, scope)

    return Context(
        principal=principal,
        loaders=loaders(),
        request_id=uuid.uuid4().hex,
        live=feed,
        fresh_loaders=loaders,
    )
