"""Prometheus metrics, served at /metrics (PAYGRAPH_METRICS, on by default).

Per request the work is a few counter and histogram steps on values the request already
has (gateway.request_observer); nothing is counted per field. Gauges of what a process
holds (pool connections, exports) are read from their owners, never counted on the hot
path: at scrape time in the process that answers, and every second in each worker when
several share PROMETHEUS_MULTIPROC_DIR (`paygraph serve --workers N`), whose files
prometheus-client adds up. The outbox's backlog is one indexed query at scrape time.

Label values are bounded: an operation's name is its label only while fewer than
PAYGRAPH_METRICS_OPERATIONS names have been seen (or, once trusted documents are loaded,
only when a trusted document names it); anything else shares the label `_other`.
PAYGRAPH_METRICS* are read by gateway.metrics_settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from gateway.metrics_settings import DEFAULT_OPERATION_LABELS, MetricsSettings

logger = logging.getLogger("paygraph.metrics")

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "_other"  # unnamed, unknown or overflowing operations, and odd error codes
ERROR_CODE_LABELS = 100
SAMPLE_SECONDS = 1.0
OUTBOX_QUERY_SECONDS = 2.0
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

REQUEST_SECONDS = Histogram(
    "paygraph_graphql_request_duration_seconds",
    "Time from a /graphql request's arrival to its last byte, by operation.",
    ["operation", "operation_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ERRORS = Counter(
    "paygraph_errors",
    "Errors answered, by their extensions.code (edge refusals included).",
    ["code"],
)
_COST_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000)
REQUESTED_COST = Histogram(
    "paygraph_graphql_requested_cost",
    "Query cost an operation was priced at before it ran (schema/cost.py).",
    buckets=_COST_BUCKETS,
)
ACTUAL_COST = Histogram(
    "paygraph_graphql_actual_cost",
    "Query cost of what an operation returned.",
    buckets=_COST_BUCKETS,
)
POOL_IN_USE = Gauge(
    "paygraph_db_pool_in_use",
    "Database connections checked out of the pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "paygraph_db_pool_waiting",
    "Callers waiting for a connection of the pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "paygraph_db_pool_size",
    "Connections the pool keeps (its size).",
    ["pool"],
    multiprocess_mode="livesum",
)
EXPORTS_IN_FLIGHT = Gauge(
    "paygraph_exports_in_flight",
    "Payment exports streaming now.",
    multiprocess_mode="livesum",
)


class BoundedLabels:
    """Label values taken as they come until `limit` are known; then only known ones."""

    def __init__(self, limit: int, pattern: re.Pattern[str]) -> None:
        self.limit = limit
        self._pattern = pattern
        self._known: set[str] = set()
        self._trusted: frozenset[str] | None = None

    def trust(self, names: Iterable[str] | None) -> None:
        """From now on only these values are labels (None: back to the first `limit`)."""
        self._trusted = None if names is None else frozenset(names)

    def __call__(self, value: str | None) -> str:
        if not value:
            return OTHER
        if self._trusted is not None:
            return value if value in self._trusted else OTHER
        if value in self._known:
            return value
        if len(self._known) < self.limit and self._pattern.fullmatch(value):
            self._known.add(value)
            return value
        return OTHER


_OPERATIONS = BoundedLabels(DEFAULT_OPERATION_LABELS, _NAME)
_ERROR_CODES = BoundedLabels(ERROR_CODE_LABELS, _CODE)


def operation_label(name: str | None) -> str:
    """The metric label of an operation name: the name itself when it is known (one of
    the first PAYGRAPH_METRICS_OPERATIONS names executed, or a trusted document's name
    once `trust_operation_names` was called), else `_other`."""
    return _OPERATIONS(name)


def trust_operation_names(names: Iterable[str] | None) -> None:
    """Label operations by these names only: the trusted documents' (None: undo)."""
    _OPERATIONS.trust(names)


def limit_operation_labels(limit: int) -> None:
    _OPERATIONS.limit = limit


@dataclass(slots=True)
class RequestOutcome:
    """What one HTTP request came to, filled in by the layers it passes through."""

    started: float
    graphql: bool = False
    operation: str | None = None
    operation_type: str | None = None
    requested_cost: int | None = None
    actual_cost: int | None = None
    error_codes: tuple[str, ...] = ()


_histograms: dict[tuple[str, str], Any] = {}


def observe(outcome: RequestOutcome, seconds: float) -> None:
    """Count one finished request (a few microseconds: children are kept per label)."""
    if outcome.graphql:
        key = (operation_label(outcome.operation), outcome.operation_type or "none")
        child = _histograms.get(key)
        if child is None:
            child = _histograms[key] = REQUEST_SECONDS.labels(*key)
        child.observe(seconds)
        if outcome.requested_cost is not None:
            REQUESTED_COST.observe(outcome.requested_cost)
            ACTUAL_COST.observe(outcome.actual_cost or 0)
    for code in outcome.error_codes:
        ERRORS.labels(_ERROR_CODES(code)).inc()


# What a process holds, read when sampled ---------------------------------------------


@dataclass(eq=False)
class Holdings:
    """One app's pools (by label) and its export count, read when sampled."""

    pools: dict[str, Any]
    exports: Callable[[], int]


_LIVE: set[Holdings] = set()


def sample() -> None:
    """Set this process's gauges from the live apps' pools and exports."""
    in_use: dict[str, int] = {}
    waiting: dict[str, int] = {}
    sizes: dict[str, int] = {}
    exports = 0
    for holdings in _LIVE:
        exports += holdings.exports()
        for name, pool in holdings.pools.items():
            in_use[name] = in_use.get(name, 0) + _call(pool, "checkedout")
            waiting[name] = waiting.get(name, 0) + int(getattr(pool, "waiting", 0))
            sizes[name] = sizes.get(name, 0) + _call(pool, "size")
    for name in in_use:
        POOL_IN_USE.labels(name).set(in_use[name])
        POOL_WAITING.labels(name).set(waiting[name])
        POOL_SIZE.labels(name).set(sizes[name])
    EXPORTS_IN_FLIGHT.set(exports)


def _call(pool: Any, method: str) -> int:
    found = getattr(pool, method, None)
    return int(found()) if callable(found) else 0


@contextlib.asynccontextmanager
async def holdings_watched(holdings: Holdings) -> AsyncIterator[None]:
    """Count `holdings` in the process's gauges for the body's duration (an app's
    lifespan); with several worker processes, sample them every second meanwhile."""
    _LIVE.add(holdings)
    task = None
    if os.environ.get(MULTIPROC_DIR):
        task = asyncio.create_task(_sampling(), name="paygraph-metrics")
    try:
        yield
    finally:
        _LIVE.discard(holdings)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            sample()
            # Its live gauges leave the sum with it.
            mark_process_dead(os.getpid())


async def _sampling() -> None:
    while True:
        sample()
        await asyncio.sleep(SAMPLE_SECONDS)


# The endpoint --------------------------------------------------------------------------

OutboxCounts = Callable[[], Any]  # awaitable of an object with `pending` and `dead`


def metrics_endpoint(
    settings: MetricsSettings, outbox_counts: OutboxCounts
) -> Callable[[Request], Any]:
    """The /metrics route: every metric of every worker, and the outbox's counts."""

    async def metrics(request: Request) -> Response:
        if settings.token is not None and not _authorized(request, settings.token):
            return Response(
                "unauthorized\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        sample()
        body = generate_latest(_scrape_registry()) + generate_latest(
            _OutboxCollector(await _outbox(outbox_counts))
        )
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return metrics


def _authorized(request: Request, token: str) -> bool:
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def _scrape_registry() -> CollectorRegistry:
    if not os.environ.get(MULTIPROC_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


async def _outbox(outbox_counts: OutboxCounts) -> Any:
    try:
        async with asyncio.timeout(OUTBOX_QUERY_SECONDS):
            return await outbox_counts()
    except Exception:  # a scrape still answers the rest while the database is away
        logger.warning("outbox counts unavailable for /metrics", exc_info=True)
        return None


class _OutboxCollector:
    def __init__(self, counts: Any) -> None:
        self._counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        if self._counts is None:
            return []
        return [
            GaugeMetricFamily(
                "paygraph_outbox_pending",
                "Notifications not yet delivered (due now or waiting for a retry).",
                value=self._counts.pending,
            ),
            GaugeMetricFamily(
                "paygraph_outbox_dead",
                "Notifications given up on (dead letters).",
                value=self._counts.dead,
            ),
        ]


def outbox_counter(engine: AsyncEngine) -> OutboxCounts:
    from db.outbox_store import OutboxStore

    return OutboxStore(engine).backlog
