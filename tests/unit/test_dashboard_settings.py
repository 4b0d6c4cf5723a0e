"""`paygraph serve --dashboard` without a build is one line naming the build command, and
serving the dashboard trusts its operations unless another manifest is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import dashboard
from gateway.cli import main
from gateway.settings import Settings


def test_serve_dashboard_without_a_build_names_scripts_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Set, then unset: whatever `serve` sets is undone after the test.
    monkeypatch.setenv("PAYGRAPH_DASHBOARD_DIR", "")
    monkeypatch.delenv("PAYGRAPH_DASHBOARD_DIR")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setattr(dashboard, "BUILT_DIR", tmp_path / "dist")

    code = main(["serve", "--dashboard"])

    assert code == 2
    assert capsys.readouterr().err == (
        f"paygraph serve: PAYGRAPH_DASHBOARD_DIR: {tmp_path / 'dist'} holds no built "
        "dashboard (no index.html): run scripts/dashboard first\n"
    )
    assert not (tmp_path / "p.db").exists()  # refused before the database was touched


def test_serving_the_dashboard_trusts_its_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    monkeypatch.setenv("PAYGRAPH_DASHBOARD_DIR", str(tmp_path))
    monkeypatch.delenv("PAYGRAPH_TRUSTED_DOCUMENTS", raising=False)

    settings = Settings.from_env()

    assert settings.dashboard_dir == str(tmp_path)
    assert settings.trusted_documents == str(tmp_path / "trusted-documents.json")


def test_a_named_manifest_wins_over_the_dashboards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    monkeypatch.setenv("PAYGRAPH_DASHBOARD_DIR", str(tmp_path))
    monkeypatch.setenv("PAYGRAPH_TRUSTED_DOCUMENTS", "/etc/paygraph/documents.json")

    assert Settings.from_env().trusted_documents == "/etc/paygraph/documents.json"


def test_without_the_dashboard_nothing_is_trusted_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PAYGRAPH_DASHBOARD_DIR", raising=False)
    monkeypatch.delenv("PAYGRAPH_TRUSTED_DOCUMENTS", raising=False)

    settings = Settings.from_env()

    assert (settings.dashboard_dir, settings.trusted_documents) == (None, None)
