"""The GraphQL-over-HTTP spec audit of graphql-http (npm, pinned in
tests/e2e/http_audit/package-lock.json), run by node against a served gateway: every MUST
and every SHOULD passes. The audit's report is printed (`pytest -rP` shows it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.databases import in_ci
from tests.e2e.server import ROOT, TEST_JWT_SECRET, RunningServer, running_server
from tests.factories import Factory

AUDIT = ROOT / "tests" / "e2e" / "http_audit"


@pytest.fixture(scope="module")
def audit_installed() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if in_ci():
            pytest.fail("CI=true but node and npm are not on PATH: the audit cannot run")
        pytest.skip("the graphql-http audit needs node and npm")
    subprocess.run([ROOT / "scripts" / "install-http-audit"], check=True, timeout=600)


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


def audit(server: RunningServer, token: str) -> tuple[dict[str, int], str]:
    """The audit's counts by status (ok, notice, warn, error) and its report."""
    finished = subprocess.run(
        ["node", "audit.mjs", server.graphql_url],
        cwd=AUDIT,
        env={**os.environ, "PAYGRAPH_AUDIT_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = finished.stdout + finished.stderr
    print(report)
    counts: dict[str, int] = json.loads(finished.stdout.splitlines()[-1])
    return counts, report


async def test_the_graphql_over_http_audit_finds_no_error_and_no_warning(
    audit_installed: None, server: RunningServer, engine: Any
) -> None:
    factory = Factory(engine)
    tenant = await factory.tenant()
    user = await factory.user(tenant)
    token = mint_token(
        Settings(jwt_secret=TEST_JWT_SECRET),
        tenant_id=tenant,
        user_id=user,
        permissions=ALL_PERMISSIONS,
    )

    counts, report = audit(server, token)

    assert counts["error"] == 0, report
    assert counts["warn"] == 0, report
    # graphql-http 1.23.1 has 61 audits; every MAY passes too (GET queries included).
    assert counts == {"ok": 61, "notice": 0, "warn": 0, "error": 0}, report
