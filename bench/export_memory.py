"""Stream `POST /exports/payments` of 10,000 and of 1,000,000 payments from a fresh
server each, and report the server's peak RSS (VmHWM), the time and the rows per second.

    export DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/paygraph_bench_export
    .venv/bin/paygraph demo --payments 1000000
    .venv/bin/python -m bench.export_memory

The demo puts two thirds of its payments in tenant 1; when that tenant has fewer rows
than the largest export, the script copies some of its payments (new ids) until it has
enough. Each size runs on its own server process, so each peak is that export's own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import httpx
from sqlalchemy import text

from bench.servers import serving
from db.engine import analyze, engine_for

TENANT = 1


async def prepare_tenant(url: str, largest: int) -> None:
    """Make tenant 1 hold at least `largest` payments."""
    async with engine_for(url) as engine:
        async with engine.begin() as conn:
            have = (
                await conn.execute(
                    text("SELECT count(*) FROM payment WHERE tenant_id = :t"), {"t": TENANT}
                )
            ).scalar_one()
            while have < largest:
                columns = (
                    "tenant_id, kind, status, amount, currency, paid_amount, settleable_amount, "
                    "partner_id, merchant_id, terminal_id, reference, authorized, version, "
                    "created_at, updated_at"
                )
                await conn.execute(
                    text(
                        f"INSERT INTO payment ({columns}) SELECT {columns} FROM payment "
                        f"WHERE tenant_id = :t ORDER BY id LIMIT :n"
                    ),
                    {"t": TENANT, "n": largest - have},
                )
                have += min(have, largest - have)
        await analyze(engine, "payment")


async def _bound(url: str, rows: int) -> str:
    """The createdAt at which tenant 1's first `rows` payments (by creation) end."""
    async with engine_for(url) as engine, engine.connect() as conn:
        moment = (
            await conn.execute(
                text(
                    "SELECT created_at FROM payment WHERE tenant_id = :t "
                    "ORDER BY created_at, id OFFSET :n LIMIT 1"
                ),
                {"t": TENANT, "n": rows - 1},
            )
        ).scalar_one()
    return str(moment.isoformat())


def export(url: str, rows: int, format: str, query: str | None = None) -> dict[str, float]:
    """Export tenant 1's first `rows` payments by creation from a fresh server: by the
    filter's JSON, or by `query`, a GraphQL document taking the filter as `$filter`."""
    with serving(url, TENANT) as server:
        before = server.rss_mib()
        bound = asyncio.run(_bound(url, rows))
        where = {"createdAt": {"lte": bound}}
        body: dict[str, object] = {"filter": where, "format": format}
        if query is not None:
            body = {"query": query, "variables": {"filter": where}, "format": format}
        started = time.perf_counter()
        lines = 0
        with httpx.stream(
            "POST",
            f"{server.url}/exports/payments",
            json=body,
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=600,
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                lines += chunk.count(b"\n")
        return {
            "rows": lines - (1 if format == "csv" else 0),
            "seconds": time.perf_counter() - started,
            "rss_before": before,
            "peak": server.rss_mib("VmHWM"),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--format", default="csv", choices=("csv", "ndjson"))
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    sizes = [int(size) for size in args.sizes.split(",")]
    asyncio.run(prepare_tenant(url, max(sizes)))
    print(f"| rows ({args.format}) | time | rows/s | server RSS before | server peak RSS |")
    print("|---|---|---|---|---|")
    for size in sizes:
        found = export(url, size, args.format)
        print(
            f"| {found['rows']:,.0f} | {found['seconds']:.1f} s | "
            f"{found['rows'] / found['seconds']:,.0f} | {found['rss_before']:.0f} MiB | "
            f"{found['peak']:.0f} MiB |"
        )


if __name__ == "__main__":
    main()
