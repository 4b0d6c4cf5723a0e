"""Traces over real HTTP (the app served by uvicorn in the test's loop, on each backend),
caught by OpenTelemetry's in-memory exporter: a request is a server span, its GraphQL
operation a span inside it, and each SQL statement a span inside that, including the
statements compiled reads replay on asyncpg directly (PostgreSQL); never a span per
field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from domain.permissions import ALL_PERMISSIONS
from gateway.app import create_app
from gateway.auth import mint_token
from gateway.settings import Settings
from gateway.tracing import exporter_from_env
from tests.e2e.test_request_budget_http import payments_locked
from tests.factories import Factory
from tests.graphql import count_statements
from tests.live_server import close_app_pools, serving
from tests.read_paths import read_path

SECRET = "tracing-test-secret-that-is-long-enough-0123456789"
SETTINGS = Settings(jwt_secret=SECRET)
PAGE = "query Page { payments(first: 3) { nodes { id reference amount { amount } } } }"


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [
        span
        for span in spans
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


def statement_of(span: ReadableSpan) -> str:
    attributes: Any = span.attributes or {}
    return str(attributes.get("db.statement") or attributes.get("db.query.text") or "")


async def test_a_request_is_a_server_span_an_operation_span_and_a_span_per_statement(
    engine: AsyncEngine,
) -> None:
    # given a tenant with payments and a gateway traced into memory
    factory = Factory(engine)
    tenant = await factory.tenant()
    user = await factory.user(tenant)
    for number in range(3):
        await factory.payment(tenant, reference=f"TRACE-{number}")
    jwt = mint_token(SETTINGS, tenant_id=tenant, user_id=user, permissions=sorted(ALL_PERMISSIONS))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(read_path(engine).settings(SETTINGS), engine, tracer_provider=provider)
    headers = {"Authorization": f"Bearer {jwt}", "X-Request-Id": "trace-me"}

    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            for turn in range(2):
                # when the same page is asked for twice (on PostgreSQL the second time its
                # compiled statement is replayed on asyncpg, past SQLAlchemy's execution)
                exporter.clear()
                with count_statements(engine) as counted:
                    answer = await client.post("/graphql", json={"query": PAGE}, headers=headers)
                assert answer.status_code == 200 and "errors" not in answer.json()
                spans = list(exporter.get_finished_spans())

                # then the request is one server span, named by its route
                [server] = [span for span in spans if span.kind is SpanKind.SERVER]
                assert server.name == "POST /graphql", turn
                assert server.parent is None

                # and the operation one span inside it, with its name, cost and request id
                [operation] = [span for span in spans if span.name == "query Page"]
                assert operation.parent is not None
                assert operation.parent.span_id == server.context.span_id
                attributes: Any = operation.attributes
                assert attributes["graphql.operation.name"] == "Page"
                assert attributes["graphql.operation.type"] == "query"
                assert attributes["paygraph.request_id"] == "trace-me"
                assert attributes["paygraph.cost.requested"] > 0

                # and every statement the operation ran is a client span inside it
                sql = [span for span in spans if span.kind is SpanKind.CLIENT]
                inside = children(spans, operation)
                assert inside, turn
                assert all(span in sql for span in inside)
                run = [s for s in counted.statements if "payment" in s.lower()]
                traced = [statement_of(span) for span in inside]
                assert sorted(traced) == sorted(run), turn

                # and no field has a span of its own
                assert len(spans) == 2 + len(sql)
    finally:
        await close_app_pools(app)
        provider.shutdown()


def test_tracing_is_off_unless_the_otel_variables_ask(monkeypatch: Any) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert exporter_from_env() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert type(exporter_from_env()).__name__ == "OTLPSpanExporter"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert exporter_from_env() is None


async def test_a_replayed_statement_that_fails_ends_its_span_in_error(
    engine: AsyncEngine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("statements are replayed on asyncpg on PostgreSQL only")
    # given a traced gateway whose statements may run 0.2 s, and its page asked for once
    factory = Factory(engine)
    tenant = await factory.tenant()
    user = await factory.user(tenant)
    await factory.payment(tenant, reference="TRACE-LOCKED")
    jwt = mint_token(SETTINGS, tenant_id=tenant, user_id=user, permissions=sorted(ALL_PERMISSIONS))
    headers = {"Authorization": f"Bearer {jwt}"}
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    short = create_engine(database_url, statement_timeout=0.2)
    app = create_app(read_path(short).settings(SETTINGS), short, tracer_provider=provider)
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
            assert (
                "errors"
                not in (await client.post("/graphql", json={"query": PAGE}, headers=headers)).json()
            )
            exporter.clear()
            # when the replayed statement is stopped by its timeout
            async with payments_locked(database_url):
                answer = await client.post("/graphql", json={"query": PAGE}, headers=headers)
            spans = list(exporter.get_finished_spans())
    finally:
        await close_app_pools(app)
        await short.dispose()
        provider.shutdown()

    # then the operation span reports the timeout, and the statement's span ended in error
    assert answer.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    [operation] = [span for span in spans if span.name == "query Page"]
    attributes: Any = operation.attributes
    assert "REQUEST_TIMEOUT" in attributes["paygraph.error_codes"]
    failed = [s for s in children(spans, operation) if s.status.status_code is StatusCode.ERROR]
    assert failed and all("payment" in statement_of(span) for span in failed)
