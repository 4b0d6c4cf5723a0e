"""The Starlette application: /graphql (GraphiQL for browsers), the document downloads,
the payment exports, /metrics, /healthz and /readyz, and the dashboard (/dashboard)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from db.credentials import manager_principal, user_of_tenant
from db.engine import create_engine, read_engine, write_engine
from db.exports import export_engine
from domain.principal import Principal
from domain.throttle import Throttle
from gateway.auth import JwtVerifier
from gateway.change_brokers import change_broker
from gateway.cost_settings import CostSettings
from gateway.dashboard import MOUNT_PATH
from gateway.dashboard_files import DashboardFiles
from gateway.document_manifest import load_trusted_documents
from gateway.downloads import document_download
from gateway.edge_headers import EdgeHeaders
from gateway.expiry import expiry_running
from gateway.export_settings import ExportSettings
from gateway.export_slots import ExportSlots
from gateway.exports import payment_export
from gateway.graphiql_page import ASSETS_PATH, GraphiQLAssets
from gateway.graphql_view import PayGraphGraphQL
from gateway.known_principals import KnownPrincipals
from gateway.live_connection import LiveConnections
from gateway.live_hub import LiveHub
from gateway.metrics import (
    Holdings,
    holdings_watched,
    limit_operation_labels,
    metrics_endpoint,
    outbox_counter,
    trust_operation_names,
)
from gateway.metrics_settings import MetricsSettings
from gateway.operation_span import OperationSpan
from gateway.outbox import dispatcher_running
from gateway.outbox_settings import OutboxSettings
from gateway.payout_reconcile import reconcile_running
from gateway.payouts import payout_provider
from gateway.reconcile_settings import ReconcileSettings
from gateway.redis_buckets import bucket_store
from gateway.request_budget import RequestBudget
from gateway.request_guard import Credentials, RequestGuard
from gateway.request_observer import RequestObserver
from gateway.settings import Settings
from gateway.storage import LocalDiskStorage
from gateway.subscription_settings import SubscriptionSettings
from gateway.tracing import (
    background_untraced,
    trace_statements,
    traced_app,
    tracer_provider_from_env,
)
from gateway.trusted_documents import TrustedDocuments
from gateway.workflows import build_workflows
from schema.app_schema import schema as plain_schema
from schema.uploads import upload_rule


@contextlib.asynccontextmanager
async def _untraced(provider: Any) -> AsyncIterator[None]:
    with background_untraced(provider):
        yield


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
    subscriptions: SubscriptionSettings | None = None,
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
    # With trusted documents, the metrics label operations by their names only (the
    # labels are the process's: each app says which, so an app without a manifest undoes
    # another's, as tests build several in one process).
    trusted_names = [name for doc in documents for name in doc.operations if name]
    trust_operation_names(trusted_names if len(documents) else None)
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
    # Live subscriptions: every committed change reaches this process's hub through one
    # broker listener (gateway.change_brokers), whichever instance committed it.
    subscriptions = subscriptions or SubscriptionSettings.from_env(
        settings.database_url, cost.redis_url
    )
    hub = LiveHub(subscriptions.queue)
    broker = change_broker(subscriptions, hub, engine.url, cost.redis_url)
    workflows = build_workflows(
        settings, writes, payouts, storage, reconciling, announcer=broker.announcer
    )
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
                broker.listening(),
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

    verifier = JwtVerifier(settings)
    principals = KnownPrincipals(partial(user_of_tenant, reads))
    credentials = Credentials(verifier, managers, principals.check)
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
        live=lambda view: LiveConnections(hub, subscriptions, credentials, view.live_context),
        graphql_ide="graphiql" if settings.graphiql else None,
        # GraphQL over HTTP: queries may come with GET, mutations never (405).
        allow_queries_via_get=True,
    )
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
        # Subscriptions: the same path, upgraded to a websocket (graphql-transport-ws);
        # the credential comes in the protocol's connection_init (gateway.live_connection).
        WebSocketRoute("/graphql", graphql),
        Route("/documents/{document_id:int}/content", downloads, methods=["GET"]),
        Route("/exports/payments", exports, methods=["POST"]),
    ]
    if settings.graphiql:
        routes.append(Mount(ASSETS_PATH, GraphiQLAssets()))
    if settings.dashboard_dir is not None:
        routes.append(Mount(MOUNT_PATH, DashboardFiles(settings.dashboard_dir)))
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
