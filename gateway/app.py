"""The Starlette application: /graphql (GraphiQL for browsers), the document downloads,
the payment exports, /metrics, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError

from db.compiled_reads import SqlCompiledReads, compiles
from db.credentials import manager_principal, user_of_tenant
from db.engine import create_engine, read_engine, write_engine
from db.exports import export_engine
from db.idempotency_keys import SqlIdempotencyKeys
from db.loaders import SqlReadLoaders
from db.models.types import utcnow
from db.payout_attempts import SqlPendingPayouts
from db.unit_of_work import SqlDuePayments, SqlUnitOfWork
from domain.access import ReadScope
from domain.commission_workflow import CommissionWorkflow, NotificationSettings
from domain.invoice_workflow import InvoicePayments
from domain.principal import Principal
from domain.reseller_payments import ResellerPayments
from domain.throttle import Throttle
from gateway.auth import JwtVerifier
from gateway.client_ip import client_ip, trusted_networks
from gateway.cost_settings import CostSettings
from gateway.document_manifest import load_trusted_documents
from gateway.downloads import document_download
from gateway.edge_headers import EdgeHeaders
from gateway.expiry import expiry_running
from gateway.export_settings import ExportSettings
from gateway.export_slots import ExportSlots
from gateway.exports import payment_export
from gateway.graphiql_page import ASSETS_PATH, GraphiQLAssets, graphiql_page
from gateway.graphql_response import (
    HTTP_ERROR_CODES,
    METHOD_NOT_ALLOWED,
    Refusal,
    request_error_status,
)
from gateway.known_principals import KnownPrincipals
from gateway.media_types import (
    APPLICATION_JSON,
    GRAPHQL_RESPONSE_JSON,
    content_type,
    response_media_type,
)
from gateway.metrics import (
    Holdings,
    MetricsSettings,
    holdings_watched,
    limit_operation_labels,
    metrics_endpoint,
    outbox_counter,
    trust_operation_names,
)
from gateway.outbox import dispatcher_running
from gateway.outbox_settings import OutboxSettings
from gateway.payout_reconcile import ReconcileSettings, reconcile_running
from gateway.payouts import payout_provider
from gateway.redis_buckets import bucket_store
from gateway.request_budget import RESPONSE_TOO_LARGE, RequestBudget, timed_out, too_large
from gateway.request_guard import BAD_REQUEST, RequestGuard, names_an_operation
from gateway.request_observer import RequestObserver, record_error, record_execution
from gateway.settings import Settings
from gateway.storage import LocalDiskStorage
from gateway.tracing import (
    OperationSpan,
    background_untraced,
    trace_statements,
    traced_app,
    tracer_provider_from_env,
)
from gateway.trusted_documents import TrustedDocuments, resolve, sent_document_id
from resolvers.context import Context
from schema.app_schema import build_schema
from schema.app_schema import schema as plain_schema
from schema.compiled_execution import encode
from schema.query_cost import CostLimit
from schema.uploads import upload_rule


@dataclass(frozen=True, slots=True)
class Workflows:
    """The write side's use cases, built once per app."""

    commission: CommissionWorkflow
    resellers: ResellerPayments
    invoices: InvoicePayments


def build_workflows(
    settings: Settings,
    writes: AsyncEngine,
    payouts: Any,
    storage: LocalDiskStorage,
    reconcile: ReconcileSettings,
) -> Workflows:
    units = partial(SqlUnitOfWork, writes)
    keys = SqlIdempotencyKeys(writes)
    retention = timedelta(hours=settings.idempotency_retention_hours)
    return Workflows(
        commission=CommissionWorkflow(
            units,
            keys,
            payouts,
            storage,
            clock=utcnow,
            notifications=NotificationSettings(
                slack_channel=settings.slack_channel,
                rejection_mentions=settings.slack_rejection_mentions,
            ),
            key_retention=retention,
            payout_timing=reconcile.timing,
            pending_payouts=SqlPendingPayouts(writes),
        ),
        resellers=reseller_payments(writes, retention),
        invoices=InvoicePayments(units, keys, clock=utcnow, key_retention=retention),
    )


def reseller_payments(writes: AsyncEngine, retention: timedelta) -> ResellerPayments:
    """The reseller completion API's use cases over the write engine (the server's, and `paygraph
    expire`'s)."""
    return ResellerPayments(
        partial(SqlUnitOfWork, writes),
        SqlIdempotencyKeys(writes),
        SqlDuePayments(writes),
        clock=utcnow,
        key_retention=retention,
    )


class PayGraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with PayGraph's context: principal, loaders, request id."""

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
        **options: Any,
    ) -> None:
        schema = build_schema(
            settings.limits,
            introspection=settings.introspection,
            cost=CostLimit(cost.max_query_cost),
            outer=schema_extensions,
            speedups=settings.resolver_speedups,
        )
        super().__init__(schema, multipart_uploads_enabled=True, **options)
        self._read_engine = engine
        self._workflows = workflows
        self._trusted_proxies = trusted_networks(settings.trusted_proxies)
        self._budget = budget
        self._throttle = throttle
        self._compiled = settings.compiled_reads and compiles(engine)
        self._documents = documents if documents is not None else TrustedDocuments()

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


@contextlib.asynccontextmanager
async def _untraced(provider: Any) -> AsyncIterator[None]:
    with background_untraced(provider):
        yield


def _media_type(request: Request) -> str:
    return response_media_type(request.headers.get("accept"))


def _freeze_startup_heap() -> None:
    """Move what start-up built (modules, the schema, the pools) out of the collector's
    reach. A dashboard page allocates some 300,000 objects, so the cyclic collector runs
    full collections every few requests; each one walked the ~130,000 objects of the
    start-up heap as well. Frozen, W1 costs about 30 % less CPU (bench/results)."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None,
    engine: AsyncEngine | None = None,
    outbox: OutboxSettings | None = None,
    budget: RequestBudget | None = None,
    cost: CostSettings | None = None,
    export_settings: ExportSettings | None = None,
    metrics: MetricsSettings | None = None,
    tracer_provider: Any = None,
    documents: TrustedDocuments | None = None,
) -> Starlette:
    """The app; `tracer_provider` (an OpenTelemetry SDK TracerProvider) traces it, else
    OTEL_* decides (gateway.tracing: off by default)."""
    settings = settings or Settings.from_env()
    metrics = metrics or MetricsSettings.from_env()
    limit_operation_labels(metrics.operation_labels)
    owns_provider = tracer_provider is None
    tracer_provider = tracer_provider or tracer_provider_from_env()
    if documents is None:
        documents = load_trusted_documents(settings, plain_schema._schema)
    if len(documents):  # the metrics label operations by the trusted documents' names
        trust_operation_names(name for doc in documents for name in doc.operations if name)
    outbox = outbox or OutboxSettings.from_env()
    budget = budget or RequestBudget.from_env()
    cost = cost or CostSettings.from_env()
    # One store of throttle buckets per app: Redis (shared by every instance) or memory.
    throttle = Throttle(bucket_store(cost), cost.limits)
    owns_engine = engine is None
    engine = engine or create_engine(
        settings.database_url, statement_timeout=budget.statement_timeout
    )
    reads = read_engine(engine)
    writes = write_engine(engine)
    # Exports stream from a pool of their own, so they can never take a read's connection.
    export_settings = export_settings or ExportSettings.from_env()
    exporting = export_engine(engine.url, export_settings.connections)
    payouts = payout_provider(settings.payouts)
    storage = LocalDiskStorage(Path(settings.storage_dir))
    # Payout attempts nobody holds any more are asked about again (gateway.payout_reconcile).
    reconciling = ReconcileSettings.from_env(settings.payouts.timeout)
    workflows = build_workflows(settings, writes, payouts, storage, reconciling)
    export_slots = ExportSlots(
        overall=export_settings.connections, per_credential=export_settings.per_credential
    )
    pools = {"main": engine.pool, "exports": exporting.pool}
    if writes is not engine:
        pools["writes"] = writes.pool
    if tracer_provider is not None:
        trace_statements([engine, writes, exporting], tracer_provider)

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
        try:
            # Notifications written by transitions are delivered after their commit.
            async with (
                _untraced(tracer_provider),
                dispatcher_running(writes, outbox),
                expiry_running(workflows.resellers, settings.expiry_interval_seconds),
                reconcile_running(workflows.commission, reconciling),
                holdings_watched(Holdings(pools, lambda: export_slots.running)),
            ):
                _freeze_startup_heap()
                yield
        finally:
            if owns_provider and tracer_provider is not None:
                tracer_provider.shutdown()  # the spans still batched are sent
            await payouts.close()
            await throttle.store.close()
            await exporting.dispose()
            if writes is not engine:
                await writes.dispose()
            if owns_engine:
                await engine.dispose()

    graphql = PayGraphGraphQL(
        reads,
        settings,
        workflows,
        budget,
        cost=cost,
        throttle=throttle,
        schema_extensions=(
            [partial(OperationSpan, tracer_provider.get_tracer("paygraph"))]
            if tracer_provider is not None
            else []
        ),
        documents=documents,
        graphql_ide="graphiql" if settings.graphiql else None,
        # GraphQL over HTTP: queries may come with GET, mutations never (405).
        allow_queries_via_get=True,
    )
    verifier = JwtVerifier(settings)
    principals = KnownPrincipals(partial(user_of_tenant, reads))
    guarded = RequestGuard(
        EdgeHeaders(graphql),
        verifier=verifier,
        managers=managers,
        principals=principals.check,
        max_body_bytes=settings.limits.max_body_bytes,
        body_timeout=budget.request_timeout,
        max_upload_bytes=settings.max_upload_bytes,
        # The permission matrix rows of the fields that take an Upload: checked before
        # a multipart body is read.
        upload_rule=upload_rule(graphql.schema._schema),
        graphiql=settings.graphiql,
    )
    downloads = RequestGuard(
        document_download(reads, storage),
        verifier=verifier,
        managers=managers,
        principals=principals.check,
        max_body_bytes=settings.limits.max_body_bytes,
        body_timeout=budget.request_timeout,
        graphiql=False,
    )
    exports = RequestGuard(
        payment_export(
            exporting,
            graphql.schema,
            throttle=throttle,
            slots=export_slots,
            send_timeout=export_settings.send_timeout,
        ),
        verifier=verifier,
        managers=managers,
        principals=principals.check,
        max_body_bytes=settings.limits.max_body_bytes,
        body_timeout=budget.request_timeout,
        graphiql=False,
    )
    # Outermost: times and reports every request, refusals at the edge included.
    middleware = [Middleware(RequestObserver)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Api-Token", "X-Request-Id"],
                expose_headers=["X-Request-Id", "Content-Disposition", "ETag"],
                max_age=600,
            )
        )
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", guarded, methods=["GET", "POST"]),
        Route("/documents/{document_id:int}/content", downloads, methods=["GET"]),
        Route("/exports/payments", exports, methods=["POST"]),
    ]
    if settings.graphiql:
        routes.append(Mount(ASSETS_PATH, GraphiQLAssets()))
    if metrics.enabled:
        routes.append(Route("/metrics", metrics_endpoint(metrics, outbox_counter(reads))))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.write_engine = writes  # the same engine but on SQLite (db.engine.write_engine)
    app.state.export_engine = exporting
    app.state.settings = settings
    return app if tracer_provider is None else traced_app(app, tracer_provider)
