"""The rows the denial-of-service measurements aim at, found by SQL in the run's copy of
the demo database (tenant 1 unless said otherwise), and the row counts that show
whether a request wrote anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

WATCHED_TABLES = (
    "payment",
    "payment_event",
    "accounting_transaction",
    "payment_document",
    "idempotency_key",
)
UPLOADABLE = ("generated", "payment_requested", "documents_rejected", "payment_rejected")
UPLOAD_TYPE = "bank_statement"  # uploads go to payments without one, so a write adds a row


@dataclass(frozen=True, slots=True)
class PartnerPayment:
    """A commission payment its own partner user may add documents to."""

    payment_id: int
    partner_id: int
    user_id: int


async def row_counts(dsn: str) -> dict[str, int]:
    connection = await asyncpg.connect(dsn)
    try:
        return {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
            for table in WATCHED_TABLES
        }
    finally:
        await connection.close()


async def _fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def payable_payments(dsn: str, count: int) -> list[int]:
    """Commission payments `payPartnerPayment` accepts: approved for payment, every
    required document approved, a partner with a payout account, the cutoff reached, an
    amount above zero. The demo has hundreds; fewer than `count` is an error."""
    rows = await _fetch(
        dsn,
        """
        SELECT p.id FROM payment p JOIN partner pa ON pa.id = p.partner_id
        WHERE p.tenant_id = 1 AND p.kind = 'commission' AND p.status = 'approved_for_payment'
          AND pa.payout_account IS NOT NULL AND p.cutoff_date <= current_date
          AND p.amount > 0
          AND NOT EXISTS (SELECT 1 FROM payment_document d WHERE d.payment_id = p.id
                          AND d.required AND d.status <> 'approved')
        ORDER BY p.id LIMIT $1
        """,
        count,
    )
    if len(rows) < count:
        raise RuntimeError(f"the demo has only {len(rows)} payable commission payments")
    return [row["id"] for row in rows]


async def commission_payments(dsn: str, status: str, count: int, tenant: int = 1) -> list[int]:
    rows = await _fetch(
        dsn,
        "SELECT id FROM payment WHERE tenant_id = $1 AND kind = 'commission' "
        "AND status = $2 AND amount > 0 ORDER BY id LIMIT $3",
        tenant,
        status,
        count,
    )
    return [row["id"] for row in rows]


async def partner_payments(dsn: str, count: int) -> list[PartnerPayment]:
    """Payments in a status that takes documents, each with a partner user of its own
    partner, and no document of UPLOAD_TYPE yet."""
    rows = await _fetch(
        dsn,
        """
        SELECT DISTINCT ON (p.id) p.id, p.partner_id, u.id AS user_id
        FROM payment p JOIN user_account u ON u.partner_id = p.partner_id
        WHERE p.tenant_id = 1 AND p.kind = 'commission' AND p.status = ANY($1::text[])
          AND u.role = 'partner'
          AND NOT EXISTS (SELECT 1 FROM payment_document d
                          WHERE d.payment_id = p.id AND d.document_type = $2)
        ORDER BY p.id, u.id LIMIT $3
        """,
        list(UPLOADABLE),
        UPLOAD_TYPE,
        count,
    )
    return [PartnerPayment(row["id"], row["partner_id"], row["user_id"]) for row in rows]


async def open_invoice(dsn: str, tenant: int, room: int) -> int:
    """An invoice that takes payments with at least `room` minor units left to pay."""
    rows = await _fetch(
        dsn,
        "SELECT id FROM invoice WHERE tenant_id = $1 AND status IN ('open', 'partially_paid') "
        "AND total_amount - paid_amount >= $2 ORDER BY id LIMIT 1",
        tenant,
        room,
    )
    return int(rows[0]["id"])


async def admin_user(dsn: str, tenant: int) -> int:
    rows = await _fetch(
        dsn,
        "SELECT min(id) AS id FROM user_account WHERE tenant_id = $1 AND role = 'admin'",
        tenant,
    )
    return int(rows[0]["id"])


async def document_sample(dsn: str, count: int) -> list[int]:
    """`count` of tenant 1's documents that have a file, spread evenly over their ids."""
    rows = await _fetch(
        dsn,
        "SELECT id FROM payment_document WHERE tenant_id = 1 AND storage_key IS NOT NULL "
        "ORDER BY id",
    )
    step = max(1, len(rows) // count)
    return [row["id"] for row in rows[::step][:count]]


async def connections(dsn: str) -> int:
    """Sessions open on the run's database, other than this one."""
    rows = await _fetch(
        dsn,
        "SELECT count(*) AS n FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    return int(rows[0]["n"])
