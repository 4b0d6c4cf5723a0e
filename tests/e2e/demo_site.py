"""A small demo database of its own (SQLite file or a fresh PostgreSQL database) served
for real by uvicorn with the app from `gateway.app.create_app`, in the test's event
loop; plus the row counts that show whether a request wrote anything."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.demo import load_demo
from db.engine import create_engine
from db.migrate import upgrade
from domain.permissions import ALL_PERMISSIONS
from gateway.app import create_app
from gateway.auth import mint_token
from gateway.settings import Settings
from gateway.storage import LocalDiskStorage
from tests.databases import create_postgres_database, drop_postgres_database, postgres_admin_url
from tests.live_server import close_app_pools, serving

SECRET = "bad-input-test-secret-that-is-long-enough-0123456789"
# Every table a write touches: a refused request must leave each count as it was.
WRITTEN_TABLES = (
    "payment",
    "payment_event",
    "accounting_transaction",
    "idempotency_key",
    "payment_document",
    "outbox",
    "invoice",
)


@dataclass
class DemoSite:
    url: str
    engine: AsyncEngine
    settings: Settings
    tenant_id: int
    admin_id: int
    app: Any = None  # the app served (gateway.app.create_app's)
    # One client for every post: a new httpx client loads the CA bundle into a TLS
    # context (~30 ms of CPU), even for plain http, and property tests post thousands.
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=60))

    def token(self, *permissions: str) -> str:
        return mint_token(
            self.settings,
            tenant_id=self.tenant_id,
            user_id=self.admin_id,
            permissions=permissions or ALL_PERMISSIONS,
        )

    async def post(self, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        """POST a GraphQL body, JSON with ASCII escapes (so lone surrogates travel as
        `\\ud800`, as a client's JSON encoder would write them)."""
        return await self.client.post(
            f"{self.url}/graphql",
            content=json.dumps(body, ensure_ascii=True),
            headers={
                "Authorization": f"Bearer {token or self.token()}",
                "Content-Type": "application/json",
            },
        )

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def counts(self) -> dict[str, int]:
        """Rows per written table, and a digest of every payment's status and update
        time (a write that adds no row still changes one of those)."""
        # One statement for all the counts: a property test asks before and after each
        # of its examples, and a round trip per table cost more than the counting.
        every_count = ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in WRITTEN_TABLES)
        async with self.engine.connect() as connection:
            counted = (await connection.execute(text(f"SELECT {every_count}"))).one()
            found = {
                table: int(count) for table, count in zip(WRITTEN_TABLES, counted, strict=True)
            }
            rows = await connection.execute(
                text("SELECT id, status, updated_at FROM payment ORDER BY id")
            )
            found["payment_digest"] = hash(tuple(map(tuple, rows.all())))
        return found


@contextlib.asynccontextmanager
async def demo_site(
    backend: str, storage: Path, *, payments: int = 120, seed: int = 17, **settings: Any
) -> AsyncIterator[DemoSite]:
    """The demo (`payments` payments, deterministic by `seed`) on a database of its own,
    served on a free port with these further `settings`; the database is dropped
    after."""
    admin_url = postgres_admin_url() if backend == "postgresql" else None
    if backend == "postgresql":
        if admin_url is None:
            pytest.skip("PostgreSQL tests need PAYGRAPH_TEST_POSTGRES_URL (or CI=true)")
        url = await create_postgres_database(admin_url)
    else:
        url = f"sqlite+aiosqlite:///{storage / 'demo.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        documents = storage / "documents"
        # The demo's document files go where the app reads them, as `paygraph demo` does.
        await load_demo(engine, payments=payments, seed=seed, storage=LocalDiskStorage(documents))
        configured = Settings(
            database_url=url, jwt_secret=SECRET, storage_dir=str(documents), **settings
        )
        site = DemoSite("", engine, configured, 0, 0)
        site.tenant_id = await site.scalar("SELECT min(id) FROM tenant")
        site.admin_id = await site.scalar(
            "SELECT min(id) FROM user_account WHERE tenant_id = :t AND role = 'admin'",
            t=site.tenant_id,
        )
        site.app = app = create_app(configured, engine)
        try:
            async with site.client, serving(app) as site.url:
                yield site
        finally:
            await close_app_pools(app)
    finally:
        await engine.dispose()
        if admin_url is not None:
            await drop_postgres_database(admin_url, url)
