"""scripts/dashboard run by the tests, one build at a time: `--dist loadfile` may run the
modules that build it on two xdist workers at once, and two builds share dashboard/ (its
node_modules, and dist/, which Vite empties first). The test command (scripts/test)
starts the build before the tests, holding the same lock: a test then waits for it."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from gateway.dashboard import BUILT_DIR
from tests.databases import in_ci
from tests.e2e.server import ROOT
from tests.file_lock import file_lock

BUILD_NOTES = ROOT / "dashboard" / ".build"  # the build's lock, and scripts/test's log of it
LOCK = BUILD_NOTES / "lock"


def building_alone() -> AbstractContextManager[None]:
    """Holds the checkout's build lock (a file lock, so it spans processes)."""
    LOCK.parent.mkdir(exist_ok=True)
    return file_lock(LOCK)


def newest_source() -> float:
    """When the dashboard's sources (and the schema its operations are typed from) last
    changed: a build older than that would test what the checkout no longer says."""
    sources = [ROOT / "schema.graphql"]
    for folder, subfolders, files in os.walk(ROOT / "dashboard"):
        unbuilt = ("node_modules", "dist", BUILD_NOTES.name)
        subfolders[:] = [name for name in subfolders if name not in unbuilt]
        sources += [Path(folder, name) for name in files]
    return max(path.stat().st_mtime for path in sources)


def fresh_build() -> Path:
    """dashboard/dist, rebuilt unless it is newer than every source; call it holding the
    lock (`building_alone`)."""
    index = BUILT_DIR / "index.html"
    if index.exists() and index.stat().st_mtime > newest_source():
        return BUILT_DIR
    return build_dashboard()


def build_dashboard() -> Path:
    """dashboard/dist as scripts/dashboard builds it from the checkout. Without node and
    npm the test skips, and fails with CI=true."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if in_ci():
            pytest.fail("CI=true but node and npm are not on PATH: the dashboard cannot build")
        pytest.skip("building the dashboard needs node and npm")
    done = subprocess.run(
        [ROOT / "scripts" / "dashboard"], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return BUILT_DIR
