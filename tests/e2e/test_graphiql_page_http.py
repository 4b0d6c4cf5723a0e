"""The GraphiQL page over HTTP: everything it loads comes from the gateway itself, under a
Content-Security-Policy that allows nothing else; the vendored files are the pinned ones;
the one-click URL carries the headers. (tests/e2e/test_graphiql_browser.py runs it in a
real browser.)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from gateway.graphiql_page import ASSETS_DIR, one_click_url
from tests.e2e.server import ROOT, TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.forkserver import run

VENDOR = ASSETS_DIR / "vendor"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url) as running:
        yield running


def test_the_page_loads_only_its_own_files_under_a_strict_policy(server: RunningServer) -> None:
    page = httpx.get(server.graphql_url, headers={"Accept": "text/html"}, timeout=10, verify=TLS)

    assert page.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assets = [link for link in links if link != "data:,"]
    assert len(assets) == 8
    for asset in assets:
        assert urlsplit(asset).netloc == "" and asset.startswith("graphiql/")
        served = httpx.get(f"{server.url}/{asset}", timeout=10, verify=TLS)
        assert served.status_code == 200, asset
        kind = "text/css" if asset.endswith(".css") else "text/javascript"
        assert served.headers["content-type"].startswith(kind)
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "etag" in served.headers


def test_the_vendored_files_are_the_pinned_ones() -> None:
    rows = [
        line.split("\t")
        for line in (VENDOR / "VERSIONS").read_text().splitlines()
        if not line.startswith("#")
    ]
    pinned = {name: digest for name, _package, digest in rows}

    assert pinned.keys() == {path.name for path in VENDOR.iterdir()} - {"VERSIONS"}
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    packages = {package.rsplit("@", 1)[0] for _name, package, _digest in rows}
    assert packages >= {"react", "react-dom", "graphiql", "@graphiql/plugin-explorer"}


def test_the_one_click_url_carries_the_headers() -> None:
    headers = {"Authorization": "Bearer a.b+c/d"}

    url = one_click_url("http://127.0.0.1:8000/graphql", headers)

    assert url.startswith("http://127.0.0.1:8000/graphql?headers=%7B")
    assert json.loads(parse_qs(urlsplit(url).query)["headers"][0]) == headers


def test_paygraph_token_prints_the_one_click_url() -> None:
    printed = run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "token",
            "--user",
            "7",
            "--graphiql-url",
            "http://h:1/graphql",
        ],
        cwd=ROOT,
        env={**os.environ, "PAYGRAPH_JWT_SECRET": TEST_JWT_SECRET},
        check=True,
    ).stdout.strip()

    assert printed.startswith("http://h:1/graphql?headers=")
    headers = json.loads(parse_qs(urlsplit(printed).query)["headers"][0])
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, TEST_JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False})
    assert claims["sub"] == "7"
