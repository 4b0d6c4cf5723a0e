"""Time `paygraph statement` for one partner-month of N payments, against a real server on
PostgreSQL, and report the GraphQL requests it made and the server's peak memory.

    .venv/bin/python -m bench.statement_month --payments 100000

Creates (and afterwards drops) the database `paygraph_bench_statement` on the server of
`--admin-url` (default: the local PostgreSQL CI uses), loads a small demo for the
parties, then adds N acquiring payments for one partner's merchants in October 2026
(a third of them with one to three shipment detail rows) with one INSERT ... SELECT,
starts `paygraph serve` on a free port, and runs the statement as a separate process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.servers import PAYGRAPH, serving
from db.engine import analyze, engine_for

DATABASE = "paygraph_bench_statement"
MONTH = "2026-10"

PAYMENTS = """
INSERT INTO payment (tenant_id, kind, status, amount, currency, paid_amount,
    settleable_amount, partner_id, merchant_id, terminal_id, reference, authorized,
    version, created_at, updated_at)
SELECT :tenant, 'acquiring', (ARRAY['completed','processing','invalid','underpaid',
        'completed','created'])[1 + g % 6],
    500 + (g * 7919) % 500000, (ARRAY['USD','EUR','JPY'])[1 + g % 3],
    CASE WHEN g % 6 IN (0, 4) THEN 500 + (g * 7919) % 500000 END,
    CASE WHEN g % 6 IN (0, 4) THEN (500 + (g * 7919) % 500000) * 971 / 1000 END,
    :partner, m.id, NULL, 'BENCH-' || g, false, 1,
    TIMESTAMPTZ '2026-10-01 00:00:00+00' + (g * INTERVAL '26 seconds'),
    TIMESTAMPTZ '2026-10-01 00:00:00+00' + (g * INTERVAL '26 seconds')
FROM generate_series(1, :n) AS g
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS slot FROM merchant
      WHERE partner_id = :partner) AS m ON m.slot = g % :merchants
"""
DETAILS = """
INSERT INTO payment_detail (tenant_id, payment_id, partner_id, carrier, tracking_number,
    amount, currency, created_at)
SELECT p.tenant_id, p.id, p.partner_id, (ARRAY['DHL','UPS','FedEx'])[1 + k], 'T' || p.id || k,
    p.amount / 3, p.currency, p.created_at
FROM payment AS p, generate_series(0, 2) AS k
WHERE p.reference LIKE 'BENCH-%' AND p.id % 3 = 0 AND k <= p.id % 2
"""


async def _load(url: str, payments: int) -> tuple[int, int]:
    """A migrated demo plus the partner-month; the partner's id and merchant count."""
    subprocess.run(
        [PAYGRAPH, "demo", "--payments", "3000"],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    async with engine_for(url) as engine:
        async with engine.begin() as conn:
            partner, tenant, merchants = (
                await conn.execute(
                    text(
                        "SELECT p.id, p.tenant_id, count(m.id) FROM partner p "
                        "JOIN merchant m ON m.partner_id = p.id "
                        "GROUP BY p.id, p.tenant_id ORDER BY count(m.id) DESC, p.id LIMIT 1"
                    )
                )
            ).one()
            await conn.execute(
                text(PAYMENTS),
                {"tenant": tenant, "partner": partner, "n": payments, "merchants": merchants},
            )
            await conn.execute(text(DETAILS))
        await analyze(engine)
    return partner, merchants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="the server's processes")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    admin = make_url(args.admin_url)
    url = admin.set(database=DATABASE).render_as_string(hide_password=False)
    psql = ["psql", admin.render_as_string(hide_password=False), "-qc"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DATABASE}"], check=True)
    subprocess.run([*psql, f"CREATE DATABASE {DATABASE}"], check=True)
    try:
        started = time.perf_counter()
        partner, merchants = asyncio.run(_load(url, args.payments))
        print(f"loaded {args.payments:,} payments in {time.perf_counter() - started:.0f} s")
        with serving(url, workers=args.workers) as server, tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(
                [
                    PAYGRAPH,
                    "statement",
                    "--url",
                    f"{server.url}/graphql",
                    "--token",
                    server.token,
                    "--partner",
                    str(partner),
                    "--month",
                    MONTH,
                    "--output",
                    folder,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = time.perf_counter() - started
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            client_cpu = cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
            sizes = {p.suffix: p.stat().st_size for p in Path(folder).iterdir()}
            peak = server.rss_mib("VmHWM")
        print(done.stdout.strip())
        requests = re.search(r"(\d+) GraphQL requests", done.stdout)[1]  # type: ignore[index]
        print(
            f"| payments | merchants | server workers | GraphQL requests | wall time | "
            f"client CPU | server peak RSS | CSV | JSON | PDF |\n"
            f"|---|---|---|---|---|---|---|---|---|---|\n"
            f"| {args.payments:,} | {merchants} | {args.workers} | {requests} | {seconds:.1f} s | "
            f"{client_cpu:.1f} s | "
            f"{peak:.0f} MiB | {sizes['.csv'] / 1e6:.1f} MB | {sizes['.json'] / 1e3:.0f} kB | "
            f"{sizes['.pdf'] / 1e3:.0f} kB |"
        )
    finally:
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DATABASE}"], check=True)


if __name__ == "__main__":
    main()
