"""The migrated database is the models' database, and its constraints hold the money
and status rules even against raw SQL."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError, StatementError

from db import models as m
from domain.currencies import ISO_4217
from tests.factories import Factory, payment_row


async def test_migrations_create_exactly_the_models(engine: Any) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, m.Base.metadata)

    async with engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_currency_table_holds_iso_4217(engine: Any) -> None:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT code, numeric_code, exponent FROM currency"))
        ).all()
    table = {code: (numeric, exponent) for code, numeric, exponent in rows}
    assert len(table) == len(ISO_4217)
    assert table["JPY"] == (392, 0)
    assert table["USD"] == (840, 2)
    assert table["KWD"] == (414, 3)


async def test_raw_sql_float_is_refused_by_the_sqlite_check(engine: Any) -> None:
    """Below the ORM guard, SQLite's type affinity would keep 1.5; the check refuses it."""
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's BIGINT has no fractional values to refuse
    tenant = await Factory(engine).tenant()
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO payment (tenant_id, kind, status, amount, currency, authorized,"
                    " version, created_at, updated_at) VALUES (:t, 'invoice', 'recorded', 1.5,"
                    " 'USD', false, 1, '2025-01-01', '2025-01-01')"
                ),
                {"t": tenant},
            )


@pytest.mark.parametrize(
    "values",
    [
        {"amount": 1.5},
        {"amount": "12abc"},
        {"amount": -1},
        {"status": "paid"},  # a commission status on an invoice payment
        {"kind": "barter"},
        {"currency": "XXX"},
        {"partner_id": 987654321},
    ],
    ids=["float", "text", "negative", "status-of-other-kind", "kind", "currency", "fk"],
)
async def test_constraints_reject_bad_payment_rows(engine: Any, values: dict[str, Any]) -> None:
    tenant = await Factory(engine).tenant()
    # Floats and text stop at the MinorUnits bind guard (StatementError); what reaches
    # the database meets its check and foreign-key constraints (IntegrityError).
    with pytest.raises((IntegrityError, StatementError)):
        async with engine.begin() as connection:
            await connection.execute(insert(m.Payment.__table__), payment_row(tenant, **values))


async def test_every_foreign_key_is_indexed(engine: Any) -> None:
    unindexed = []
    for table in m.Base.metadata.sorted_tables:
        leading = {next(iter(index.columns.keys())) for index in table.indexes}
        leading |= {
            next(iter(c.columns.keys()))
            for c in table.constraints
            if c.__class__.__name__ == "UniqueConstraint"
        }
        for fk in table.foreign_keys:
            if fk.parent.name not in leading and not fk.parent.primary_key:
                unindexed.append(f"{table.name}.{fk.parent.name}")
    assert unindexed == []
