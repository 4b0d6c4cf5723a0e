"""How a test reads a database: its in-process operations (tests.graphql) and the
servers it starts. The `postgresql-resolvers` backend's database (tests.backends) is read
through plain Strawberry resolvers, as a server with PAYGRAPH_COMPILED_READS=off and
PAYGRAPH_RESOLVER_SPEEDUPS=off reads; every other as those two variables say (both on
unless set), as `paygraph serve` started from this environment would."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.environment import env_flag
from gateway.settings import Settings
from schema.app_schema import PayGraphSchema, build_schema, schema
from schema.speedups import SWITCH as SPEEDUPS

COMPILED_READS = "PAYGRAPH_COMPILED_READS"


@dataclass(frozen=True)
class ReadPath:
    compiled: bool  # root fields the read catalog covers compile, where they can (PostgreSQL)
    speedups: bool  # the resolver path's speed-ups (schema.speedups)

    @property
    def schema(self) -> PayGraphSchema:
        """The schema in-process operations run on."""
        return _schema_with(self.speedups)

    def settings(self, settings: Settings) -> Settings:
        """`settings` for an app that reads this way."""
        return replace(settings, compiled_reads=self.compiled, resolver_speedups=self.speedups)

    def environment(self) -> dict[str, str]:
        """The variables that make a server started as a process read this way."""
        return {COMPILED_READS: _word(self.compiled), SPEEDUPS: _word(self.speedups)}


PLAIN_RESOLVERS = ReadPath(compiled=False, speedups=False)

_read_plainly: set[str] = set()  # the names of the databases PLAIN_RESOLVERS reads


def read_path(database: AsyncEngine | str) -> ReadPath:
    """How a test reads `database` (an engine or a URL)."""
    url = database.url if isinstance(database, AsyncEngine) else make_url(database)
    if url.database in _read_plainly:
        return PLAIN_RESOLVERS
    return ReadPath(env_flag(COMPILED_READS, True), env_flag(SPEEDUPS, True))


@contextlib.contextmanager
def read_plainly(url: str) -> Iterator[None]:
    """While inside, the (PostgreSQL) database at `url` is read through plain resolvers."""
    name = make_url(url).database
    assert name is not None
    _read_plainly.add(name)
    try:
        yield
    finally:
        _read_plainly.discard(name)


@functools.cache
def _schema_with(speedups: bool) -> PayGraphSchema:
    """app_schema's schema, or one built with the speed-ups the other way: once per
    process, when a test first reads that way."""
    return schema if schema.speedups == speedups else build_schema(speedups=speedups)


def _word(on: bool) -> str:
    return "on" if on else "off"
