"""The benchmark's databases, built once and reused while they still match the code.

- `<name>`: `paygraph demo --scale bench` (200,000 payments by default), read by every
  server for W1-W3.
- `<name>_export`: a copy whose tenant 1 holds 1,000,000 payments (copies of its own), for
  W5.
- `<name>_writes`: a fresh copy per run for W4's approvals, dropped afterwards.

A database records what built it (the demo generator, the migrations and the size) in its
comment; a different fingerprint means it is rebuilt, so a stale dataset never answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from pathlib import Path

import asyncpg

from bench.export_memory import prepare_tenant
from bench.servers import PAYGRAPH

ROOT = Path(__file__).resolve().parent.parent
EXPORT_ROWS = 1_000_000


def fingerprint(*parts: str, root: Path = ROOT) -> str:
    """What built a dataset: `root`'s demo generator and migrations, and `parts`."""
    digest = hashlib.sha256()
    sources = [root / "db" / "demo.py", *sorted((root / "db" / "migrations").rglob("*.py"))]
    for source in sources:
        digest.update(source.read_bytes())
    for part in parts:
        digest.update(part.encode())
    return f"paygraph-bench {digest.hexdigest()[:16]}"


class Cluster:
    """The PostgreSQL server the benchmark runs on, reached as its `postgres` database."""

    def __init__(self, url: str) -> None:
        self.url = url  # postgresql://user@host:port/<dataset name>
        base, _, self.name = url.rpartition("/")
        self.admin_dsn = f"{base}/postgres"

    def dsn(self, database: str | None = None) -> str:
        return f"{self.url.rpartition('/')[0]}/{database or self.name}"

    def sqlalchemy_url(self, database: str | None = None) -> str:
        return self.dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)

    async def _admin(self, *statements: str) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            rows: list[asyncpg.Record] = []
            for statement in statements:
                rows = await connection.fetch(statement)
            return rows
        finally:
            await connection.close()

    def comment(self, database: str) -> str | None:
        rows = asyncio.run(
            self._admin(
                "SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database "
                f"WHERE datname = '{database}'"
            )
        )
        return rows[0]["note"] if rows else None

    def create(self, database: str, *, template: str | None = None, note: str = "") -> None:
        copy = f' TEMPLATE "{template}"' if template else ""
        asyncio.run(
            self._admin(
                f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                f'CREATE DATABASE "{database}"{copy}',
                f"COMMENT ON DATABASE \"{database}\" IS '{note}'",
            )
        )

    def mark(self, database: str, note: str) -> None:
        asyncio.run(self._admin(f"COMMENT ON DATABASE \"{database}\" IS '{note}'"))

    def drop(self, database: str) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))

    def version(self) -> str:
        return str(asyncio.run(self._admin("SHOW server_version"))[0][0])


def ensure_dataset(cluster: Cluster, payments: int, rebuild: bool = False) -> None:
    """The benchmark dataset in `cluster.name`, loaded by `paygraph demo` unless the one
    there was built by this code at this size."""
    note = fingerprint("dataset", str(payments))
    if not rebuild and cluster.comment(cluster.name) == note:
        print(f"dataset: reusing {cluster.name} ({payments:,} payments)", file=sys.stderr)
        return
    print(f"dataset: loading {payments:,} payments into {cluster.name}", file=sys.stderr)
    cluster.create(cluster.name, note="loading")
    subprocess.run(
        [PAYGRAPH, "demo", "--payments", str(payments), "--scale", "bench"],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": cluster.sqlalchemy_url()},
        check=True,
    )
    cluster.mark(cluster.name, note)


def ensure_export_copy(cluster: Cluster, payments: int, rebuild: bool = False) -> str:
    """A copy of the dataset whose tenant 1 holds EXPORT_ROWS payments; returns its name."""
    name = f"{cluster.name}_export"
    note = fingerprint("export", str(payments), str(EXPORT_ROWS))
    if not rebuild and cluster.comment(name) == note:
        print(f"dataset: reusing {name}", file=sys.stderr)
        return name
    print(
        f"dataset: copying {cluster.name} to {name} with {EXPORT_ROWS:,} payments", file=sys.stderr
    )
    cluster.create(name, template=cluster.name, note="loading")
    asyncio.run(prepare_tenant(cluster.sqlalchemy_url(name), EXPORT_ROWS))
    cluster.mark(name, note)
    return name


def fresh_write_copy(cluster: Cluster) -> str:
    name = f"{cluster.name}_writes"
    cluster.create(name, template=cluster.name, note="W4 scratch copy")
    return name
