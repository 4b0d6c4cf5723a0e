"""`paygraph documents check MANIFEST` and `paygraph serve` with a manifest: one line per
unfit document and a non-zero exit, never a traceback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.server import ROOT, TEST_JWT_SECRET, running_server
from tests.forkserver import run

VIEWER = "query Viewer { viewer { credential } }"
PAYMENTS = "query Payments { payments(first: 1) { totalCount } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def manifest(tmp_path: Path, entries: dict[str, object]) -> Path:
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps(entries))
    return path


def paygraph(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, timeout=120,
    )  # fmt: skip


def test_a_fit_manifest_passes(tmp_path: Path) -> None:
    path = manifest(tmp_path, {f"sha256:{sha(VIEWER)}": VIEWER, sha(PAYMENTS): PAYMENTS})

    done = paygraph("documents", "check", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}: 2 trusted documents fit to run, 0 not\n"
    assert done.stderr == ""


def test_each_unfit_document_is_one_line_and_the_exit_is_1(tmp_path: Path) -> None:
    unknown = "{ viewer { nothing } }"
    path = manifest(
        tmp_path, {sha(VIEWER): PAYMENTS, sha(unknown): unknown, sha(PAYMENTS): PAYMENTS}
    )

    done = paygraph("documents", "check", str(path))

    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith(f"{path}: {sha(VIEWER)}: the id does not match")
    assert lines[1].startswith(f"{path}: {sha(unknown)}: does not validate")
    assert "Traceback" not in done.stderr
    assert done.stdout == f"{path}: 1 trusted documents fit to run, 2 not\n"


def test_a_missing_manifest_is_one_line(tmp_path: Path) -> None:
    done = paygraph("documents", "check", str(tmp_path / "missing.json"))

    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert "cannot be read" in done.stderr


def test_serve_refuses_an_unfit_manifest_in_one_line(tmp_path: Path) -> None:
    path = manifest(tmp_path, {sha(VIEWER): PAYMENTS})
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "PAYGRAPH_JWT_SECRET": TEST_JWT_SECRET,
        "PAYGRAPH_TRUSTED_DOCUMENTS": str(path),
    }

    done = paygraph("serve", "--port", "1", env=env)

    assert done.returncode == 2
    assert done.stderr.startswith("paygraph serve: PAYGRAPH_TRUSTED_DOCUMENTS: ")
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_serve_says_how_many_documents_it_trusts(tmp_path: Path) -> None:
    path = manifest(tmp_path, {sha(VIEWER): VIEWER, sha(PAYMENTS): PAYMENTS})
    env = {"PAYGRAPH_TRUSTED_DOCUMENTS": str(path), "PAYGRAPH_TRUSTED_DOCUMENTS_ONLY": "true"}

    with running_server(f"sqlite:///{tmp_path / 'p.db'}", env=env) as server:
        output = server.stop_and_read()

    assert "Trusted documents: 2 (no other document runs)" in output
