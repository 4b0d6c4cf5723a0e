"""The backends a database test runs on: the parameter of the `database_url` fixture
(tests/conftest.py), and each one's id in test names.

- `sqlite`: a SQLite file, read through the resolvers (with their speed-ups, unless
  PAYGRAPH_RESOLVER_SPEEDUPS is off);
- `postgresql`: PostgreSQL, read through compiled statements where the read catalog
  covers a root field (unless PAYGRAPH_COMPILED_READS is off), else the resolvers;
- `postgresql-resolvers`: PostgreSQL in a database of its own, read through plain
  Strawberry resolvers, compiled reads and the speed-ups off (tests.read_paths), so the
  schema-level tests (tests/integration) hold that path to PostgreSQL too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
POSTGRESQL_RESOLVERS = "postgresql-resolvers"

SCHEMA_LEVEL_TESTS = Path(__file__).with_name("integration")


def on(*backends: str) -> list[ParameterSet]:
    """`backends` as parameters of `database_url` (or of a fixture like it), the
    PostgreSQL ones marked `postgres`."""
    return [
        pytest.param(backend, marks=() if backend == SQLITE else pytest.mark.postgres)
        for backend in backends
    ]


BACKENDS = on(SQLITE, POSTGRESQL)


def of_place(module: Path) -> list[ParameterSet]:
    """The backends of a test in `module` that names none: all three under
    tests/integration, SQLite and PostgreSQL elsewhere. A test that names its own
    (`pytest.mark.parametrize("database_url", on(...), indirect=True)`) runs on those."""
    if SCHEMA_LEVEL_TESTS in module.parents:
        return [*BACKENDS, *on(POSTGRESQL_RESOLVERS)]
    return BACKENDS
