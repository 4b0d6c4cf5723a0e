"""`paygraph serve --dashboard`: the built dashboard under /dashboard (its files, and
index.html for the app's own routes), its operations trusted; and the real build's
manifest passing `paygraph documents check`.

The serving is tested on a stand-in build (three files), which needs no node; the real
build (scripts/dashboard, some 50 s) is tested where node and npm are installed, and must
be with CI=true."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import httpx
import pytest

from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.dashboard import TRUSTED_DOCUMENTS_FILE
from gateway.settings import Settings
from schema.app_schema import schema
from tests.e2e.dashboard_build import building_alone, fresh_build
from tests.e2e.server import ROOT, TEST_JWT_SECRET, RunningServer, running_server
from tests.forkserver import run

VIEWER = "query DashboardViewer { viewer { credential } }"
INDEX = '<!doctype html><script type="module" src="/dashboard/assets/index-abc123.js"></script>'
# The dashboard's live badge and audit trail subscribe; until the schema has its
# Subscription type (issue 20, part 1), their two documents do not validate.
NO_SUBSCRIPTIONS = pytest.mark.xfail(
    schema._schema.subscription_type is None,
    reason="the schema has no Subscription type yet (issue 20, part 1)",
    strict=True,
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def token() -> str:
    return mint_token(
        Settings(jwt_secret=TEST_JWT_SECRET), tenant_id=1, user_id=1, permissions=ALL_PERMISSIONS
    )


@pytest.fixture
def stand_in_build(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log('dashboard')\n")
    (dist / TRUSTED_DOCUMENTS_FILE).write_text(json.dumps({f"sha256:{sha256(VIEWER)}": VIEWER}))
    return dist


@pytest.fixture
def built_dashboard() -> Path:
    """dashboard/dist as scripts/dashboard builds it from the checkout: built here unless
    the browser test (tests/e2e/test_dashboard_browser.py) built it already from the
    same sources. On a clean checkout (CI) dist/ is absent, and the first of the two to
    run builds it with the one command; the second built it again (`npm ci` and all,
    ~42 s of CPU) when it ran second."""
    with building_alone():
        return fresh_build()


def get(server: RunningServer, path: str) -> httpx.Response:
    return httpx.get(server.url + path, timeout=30)


def test_serve_dashboard_serves_its_files_and_index_html_for_its_routes(
    tmp_path: Path, stand_in_build: Path
) -> None:
    env = {"PAYGRAPH_DASHBOARD_DIR": str(stand_in_build)}
    database = f"sqlite:///{tmp_path / 'p.db'}"
    args = ("--dashboard", "--demo", "--demo-payments", "5")
    with running_server(database, *args, env=env) as server:
        index = get(server, "/dashboard/")
        asset = get(server, "/dashboard/assets/index-abc123.js")
        route = get(server, "/dashboard/payments/UGF5bWVudDox")
        missing = get(server, "/dashboard/assets/index-gone.js")
        bare = get(server, "/dashboard")
        trusted = httpx.post(
            server.graphql_url,
            json={"documentId": f"sha256:{sha256(VIEWER)}"},
            headers={"Authorization": f"Bearer {token()}"},
            timeout=30,
        )
        output = server.stop_and_read()

    assert (index.status_code, index.text) == (200, INDEX)
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["cache-control"] == "no-cache"
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (route.status_code, route.text) == (200, INDEX)  # the app routes in the browser
    assert missing.status_code == 404  # a stale page's asset fails visibly
    assert bare.status_code in (307, 308) and bare.headers["location"].endswith("/dashboard/")
    # Its manifest is loaded: the dashboard's operations run by their hash.
    assert trusted.status_code == 200, trusted.text
    assert trusted.json()["data"]["viewer"]["credential"]
    assert "Trusted documents: 1" in output
    assert f"Dashboard: {server.url}/dashboard/" in output


@NO_SUBSCRIPTIONS
def test_the_built_dashboard_is_served_and_its_manifest_passes_documents_check(
    tmp_path: Path, built_dashboard: Path
) -> None:
    manifest = built_dashboard / TRUSTED_DOCUMENTS_FILE
    checked = run(
        [sys.executable, "-m", "gateway.cli", "documents", "check", str(manifest)],
        cwd=ROOT, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    index_html = (built_dashboard / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="(/dashboard/assets/[^"]+)"', index_html)
    with running_server(f"sqlite:///{tmp_path / 'p.db'}", "--dashboard") as server:
        index = get(server, "/dashboard/")
        served = [get(server, path) for path in assets]

    assert checked.returncode == 0, checked.stderr
    assert re.fullmatch(rf"{manifest}: \d+ trusted documents fit to run, 0 not\n", checked.stdout)
    assert (index.status_code, index.text) == (200, index_html)
    assert {path.rsplit(".", 1)[1] for path in assets} == {"js", "css"}
    assert [response.status_code for response in served] == [200] * len(assets)
    assert all(response.content for response in served)
