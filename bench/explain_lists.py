"""EXPLAIN ANALYZE the statements behind the dashboard's three most common list filters,
run through the real schema against a PostgreSQL database loaded with
`paygraph demo --payments N`.

    DATABASE_URL=postgresql+asyncpg://... .venv/bin/python -m bench.explain_lists
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from sqlalchemy import event, text

from db.engine import create_engine, read_engine
from db.loaders import SqlReadLoaders
from domain.access import ReadScope
from domain.permissions import ALL_PERMISSIONS
from domain.principal import Credential, Principal
from resolvers.context import Context
from schema.app_schema import schema

# name -> (GraphQL document, variables). The partner and reference are picked from data.
FILTERS: dict[str, str] = {
    "status, newest first": """{ payments(first: 50,
        filter: {status: {in: [UNDERPAID, INVALID]}},
        sort: [{field: CREATED_AT, direction: DESC}]) { totalCount nodes { id } } }""",
    "a partner's month (document 001)": """query($partner: ID!, $from: DateTime!,
        $to: DateTime!) { partner(id: $partner) {
        payments(pageSize: 50, fromDate: $from, toDate: $to) { total data { id } } } }""",
    "reference search": """query($reference: String!) { payments(first: 50,
        filter: {reference: {contains: $reference}}) { totalCount nodes { id } } }""",
}


async def main() -> None:
    engine = create_engine(os.environ["DATABASE_URL"])
    async with engine.connect() as connection:
        partner = (
            await connection.execute(
                text(
                    "SELECT partner_id FROM payment WHERE kind = 'acquiring' AND tenant_id = 1 "
                    "GROUP BY partner_id ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).scalar_one()
        reference = (
            await connection.execute(
                text(
                    "SELECT reference FROM payment WHERE reference IS NOT NULL AND tenant_id = 1 "
                    "ORDER BY id LIMIT 1 OFFSET 5000"
                )
            )
        ).scalar_one()
        latest = (
            await connection.execute(
                text("SELECT max(created_at) FROM payment WHERE partner_id = :p"), {"p": partner}
            )
        ).scalar_one()
    month = latest.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    variables = {
        "partner": str(partner),
        "reference": reference[2:9],
        "from": month.isoformat(),
        "to": latest.isoformat(),
    }
    principal = Principal(1, None, Credential.JWT, ALL_PERMISSIONS)
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    for name, document in FILTERS.items():
        captured.clear()
        context = Context(
            principal, SqlReadLoaders(read_engine(engine), ReadScope.of(principal)), "explain"
        )  # type: ignore[arg-type]
        result = await schema.execute(document, variable_values=variables, context_value=context)
        assert result.errors is None, result.errors
        print(f"\n## {name} ({len(captured)} statements)\n")
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            for statement, parameters in captured:
                rows = await driver.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *parameters)
                print("\n".join(row[0] for row in rows))
                print()
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
