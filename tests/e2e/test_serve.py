"""What `paygraph serve` prints and refuses: a ready admin token only for the demo in
development, never in production; no start on a public interface with the public
development secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.server import ROOT, TEST_JWT_SECRET, running_server


def test_a_production_server_prints_no_token_even_with_demo_data(tmp_path: Path) -> None:
    env = {
        "PAYGRAPH_ENV": "production",
        "PAYGRAPH_JWT_SECRET": TEST_JWT_SECRET,
        "PAYGRAPH_PAYOUT_URL": "https://payouts.example.test",
    }
    with running_server(
        f"sqlite:///{tmp_path / 'p.db'}", "--demo", "--demo-payments", "10", env=env
    ) as server:
        output = server.stop_and_read()

    assert "PayGraph on" in output
    assert "Bearer" not in output
    assert "GraphiQL:" not in output  # off in production


def test_serve_refuses_a_public_interface_with_the_development_secret(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert done.returncode == 2
    assert "PAYGRAPH_JWT_SECRET" in done.stderr
