"""Metrics and logs of a real `paygraph serve --workers 2` (a subprocess on a free port,
its stderr a file, so not a terminal: JSON lines by default): every worker configures
PayGraph's logging (its lines, and a notification logged for want of a channel, come out
as JSON), each request is one line with its id, operation, principal, tenant, duration,
cost and error code, and /metrics answers for both workers whichever one is asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from db import models as m
from db.engine import create_engine
from db.migrate import upgrade
from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import ROOT, TEST_JWT_SECRET, TLS, answers_healthz, free_port
from tests.factories import tenant_and_user

NOTIFICATION = "obs-notification-in-a-worker"


@dataclass
class Workers:
    url: str
    process: subprocess.Popen[bytes]
    stderr: Path
    tenant_id: int
    token: str
    temp: Path

    def lines(self) -> list[dict[str, Any]]:
        """Every stderr line so far, each parsed as JSON (a line that is not fails)."""
        return [json.loads(line) for line in self.stderr.read_text().splitlines() if line]

    def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **headers}
        return httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=30, verify=TLS)


def eventually(found: Callable[[], list[Any]], what: str, seconds: float = 30) -> list[Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := found():
            return result
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}")


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _outbox_rows(url: str, tenant_id: int) -> None:
    """One notification due now (Slack, which no webhook is configured for: logged) and
    one dead letter."""
    engine = create_engine(url)
    payload = json.dumps({"text": NOTIFICATION})
    try:
        async with engine.begin() as connection:
            row = {"tenant_id": tenant_id, "channel": "slack", "topic": "t"}
            await connection.execute(
                insert(m.Outbox.__table__),
                [
                    {**row, "payload": payload, "status": "pending", "attempts": 0},
                    {**row, "payload": "{}", "status": "dead", "attempts": 5},
                ],
            )
    finally:
        await engine.dispose()


def start_workers(tmp: Path, url: str) -> tuple[subprocess.Popen[bytes], str, Path, Path]:
    port = free_port()
    stderr = tmp / "stderr.log"
    temp = tmp / "temp"
    temp.mkdir()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PROMETHEUS_"))},
        "DATABASE_URL": url,
        "PAYGRAPH_JWT_SECRET": TEST_JWT_SECRET,
        "PAYGRAPH_STORAGE_DIR": str(tmp / "storage"),
        "PAYGRAPH_OUTBOX_POLL_INTERVAL": "0.2",
        "PYTHONUNBUFFERED": "1",
        "TMPDIR": str(temp),  # where the CLI makes PROMETHEUS_MULTIPROC_DIR
    }
    environment.pop("PAYGRAPH_LOG_FORMAT", None)
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{stderr.read_text()}")
        if answers_healthz(base):
            break
        time.sleep(0.2)
    else:
        process.kill()
        raise TimeoutError("the server did not become healthy")
    return process, base, stderr, temp


def stop(process: subprocess.Popen[bytes]) -> int:
    process.terminate()
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


@pytest.fixture(scope="module")
async def workers(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("workers")
    url = f"sqlite+aiosqlite:///{tmp / 'paygraph.db'}"
    await _migrated(url)
    tenant_id, user_id = await tenant_and_user(url)
    await _outbox_rows(url, tenant_id)
    process, base, stderr, temp = start_workers(tmp, url)
    settings = Settings(jwt_secret=TEST_JWT_SECRET)
    token = mint_token(
        settings, tenant_id=tenant_id, user_id=user_id, permissions=sorted(ALL_PERMISSIONS)
    )
    try:
        yield Workers(base, process, stderr, tenant_id, token, temp)
    finally:
        stop(process)


def test_every_worker_logs_json_lines_and_a_notification_without_a_channel(
    workers: Workers,
) -> None:
    # given a server whose stderr is not a terminal, with two workers
    # then each worker's own start is a JSON line of PayGraph's logger
    started = eventually(
        lambda: [line for line in workers.lines() if line["logger"] == "paygraph.outbox"][1:],
        "two dispatcher starts",
    )
    pids = {line["pid"] for line in workers.lines() if line["logger"] == "paygraph.outbox"}
    assert len(pids) == 2, started

    # and the notification no channel is configured for is logged by the worker that sent it
    [logged] = eventually(
        lambda: [
            line
            for line in workers.lines()
            if line["logger"] == "paygraph.notifications" and NOTIFICATION in line["message"]
        ],
        "the notification's line",
    )
    assert logged["level"] == "info"
    assert logged["pid"] in pids
    assert "channel not configured" in logged["message"]


def test_each_request_is_one_line_with_its_operation_caller_cost_and_error(
    workers: Workers,
) -> None:
    # when a named query, a refused query and an unauthenticated request are sent
    ok = workers.post({"query": "query Mine { viewer { scope } }"}, **{"X-Request-Id": "obs-ok"})
    bad = workers.post(
        {"query": 'query Missing { payment(id: "UGF5bWVudDo5OTk5OTk=") { id } }'},
        **{"X-Request-Id": "obs-bad"},
    )
    anonymous = httpx.post(
        f"{workers.url}/graphql",
        json={"query": "{ viewer { scope } }"},
        headers={"X-Request-Id": "obs-401"},
        verify=TLS,
    )
    assert ok.status_code == 200 and "errors" not in ok.json()
    assert anonymous.status_code == 401
    bad_code = bad.json()["errors"][0]["extensions"]["code"]

    def line_of(request_id: str) -> list[dict[str, Any]]:
        return [line for line in workers.lines() if line.get("request_id") == request_id]

    # then each has one line with what it came to
    [mine] = eventually(lambda: line_of("obs-ok"), "the query's line")
    assert mine["logger"] == "paygraph.requests"
    assert mine["operation"] == "Mine" and mine["operation_type"] == "query"
    assert mine["principal"] == "user" and mine["tenant"] == workers.tenant_id
    assert mine["status"] == 200 and mine["duration_ms"] > 0
    assert mine["cost"] >= 0 and "error_code" not in mine
    [missing] = eventually(lambda: line_of("obs-bad"), "the refused query's line")
    assert missing["operation"] == "Missing" and missing["error_code"] == bad_code
    [refused] = eventually(lambda: line_of("obs-401"), "the 401's line")
    assert refused["status"] == 401 and refused["error_code"] == "UNAUTHENTICATED"
    assert "principal" not in refused and "operation" not in refused


def metric(text: str, name: str, **labels: str) -> float | None:
    wanted = name + (
        "{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "}" if labels else ""
    )
    for line in text.splitlines():
        key, _, value = line.rpartition(" ")
        if key == wanted:
            return float(value)
    return None


def test_metrics_answer_for_every_worker(workers: Workers) -> None:
    # when a named operation runs 12 times, on new connections (both workers take some)
    for _ in range(12):
        assert workers.post({"query": "query Counted { viewer { scope } }"}).status_code == 200
    workers.post({"query": "{ viewer { scope } }"})  # unnamed: the shared label
    httpx.post(f"{workers.url}/graphql", json={"query": "{ viewer { scope } }"}, verify=TLS)  # 401
    pids = {
        line["pid"]
        for line in workers.lines()
        if line.get("operation") == "Counted" and line["logger"] == "paygraph.requests"
    }

    # then whichever worker answers /metrics counts all 12, and the rest
    for _ in range(4):
        text = httpx.get(f"{workers.url}/metrics", timeout=30, verify=TLS).text
        counted = "paygraph_graphql_request_duration_seconds_count"
        assert metric(text, counted, operation="Counted", operation_type="query") == 12
        assert (metric(text, counted, operation="_other", operation_type="query") or 0) >= 1
        assert (metric(text, "paygraph_errors_total", code="UNAUTHENTICATED") or 0) >= 1
        assert (metric(text, "paygraph_graphql_requested_cost_count") or 0) >= 13
        assert metric(text, "paygraph_outbox_dead") == 1
        assert metric(text, "paygraph_exports_in_flight") == 0
        assert metric(text, "paygraph_db_pool_in_use", pool="main") is not None
        assert metric(text, "paygraph_db_pool_waiting", pool="main") == 0
    assert pids  # the requests were logged by the worker(s) that served them

    # and the workers share one folder of metric files, in a temporary folder of their own
    [folder] = list(workers.temp.glob("paygraph-metrics-*"))
    assert any(folder.iterdir())


def test_the_metrics_folder_is_removed_when_the_server_stops(tmp_path: Path) -> None:
    # given a server with two workers
    url = f"sqlite+aiosqlite:///{tmp_path / 'paygraph.db'}"
    process, _, _, temp = start_workers(tmp_path, url)
    assert list(temp.glob("paygraph-metrics-*"))

    # when it is stopped, then it exits cleanly and leaves no metrics folder behind
    assert stop(process) == 0
    assert not list(temp.glob("paygraph-metrics-*"))
