"""Shared fixtures: one migrated database per backend per run, a schema-level executor,
and a running server for end-to-end tests."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.engine import create_engine
from tests.backends import of_place
from tests.databases import MIGRATED, migrated_database

# Collect cyclic garbage less often. A test process's heap grows to millions of objects
# (SQLAlchemy's renderings of the read path's compiled statements, thousands of objects
# each, and hypothesis's strategies), and with Python's default thresholds (700, 10, 10)
# every quarter of growth cost a full collection over all of it: the aggregate oracle's PostgreSQL
# property spent 15 s of its 57 s CPU in 21 of them; with these, 4 s in none.
gc.set_threshold(50_000, 20, 10)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Collect once, then freeze what is left. A test process ends with a heap of some
    2.5 M objects (the read path's renderings, the engines' caches), and after this hook
    pytest's unraisable-exception check collects twice more and the interpreter's own
    finalization several times: the aggregate oracle's process spent 2.3 s in pytest's
    collections and 9.3 s between its atexit and its exit. Frozen objects are in no
    generation: the later passes find only what is new (0.4 s to exit). The one pass here
    runs while pytest's unraisable hook is still installed, so a finalizer that raises is
    reported as before."""
    gc.collect()
    gc.freeze()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes `database_url` runs on each backend of its place
    (tests.backends.of_place), unless it names its own."""
    if "database_url" in metafunc.fixturenames and not _names_its_backends(metafunc):
        backends = of_place(metafunc.definition.path)
        metafunc.parametrize("database_url", backends, indirect=True, scope="session")


def _names_its_backends(metafunc: pytest.Metafunc) -> bool:
    """Whether the test parametrizes `database_url` itself (as pytest's parametrization
    of fixtures defers to a test's own)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.kwargs.get("argnames", mark.args[0] if mark.args else ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "database_url" in names:
            return True
    return False


@pytest.fixture(scope="session")
async def migrated_templates() -> AsyncIterator[None]:
    """The migrated databases this test process copies (tests.databases.MIGRATED),
    dropped when its session ends."""
    yield
    await MIGRATED.drop()


@pytest.fixture(scope="session")
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: Any, migrated_templates: None
) -> AsyncIterator[str]:
    """A migrated, empty database of the test's backend, created for this run."""
    async with migrated_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[Any]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()
