"""The benchmark's workloads: the GraphQL documents in `bench/queries/` and the variables
each one runs with on a dataset, chosen from the data (the biggest portfolio, its busiest
month, documents waiting for review), so any `paygraph demo` database can run them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import engine_for
from db.models import Base

QUERIES = Path(__file__).with_name("queries")
PAYMENT = Base.metadata.tables["payment"]
TENANT = 1  # every workload reads and writes the first tenant, as its admin
W1_PAGE, W2_PAGE = 100, 200  # the page sizes
REVIEWABLE = ("payment_requested", "under_review", "documents_rejected", "payment_rejected")


def document(name: str) -> str:
    return (QUERIES / f"{name}.graphql").read_text()


@dataclass(frozen=True)
class Read:
    """One read workload: a document and its variables."""

    name: str  # W1..W3
    title: str
    query: str
    variables: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {"query": self.query, "variables": self.variables}


@dataclass(frozen=True)
class Targets:
    """What the workloads point at in a dataset."""

    partner: int  # tenant 1's partner with the most acquiring payments
    month_from: str  # that partner's busiest month, as document 001's bounds (inclusive)
    month_to: str
    acquiring: int  # the partner's acquiring payments (W2's total)


async def targets(engine: AsyncEngine) -> Targets:
    tenant_acquiring = (
        PAYMENT.c.tenant_id == TENANT,
        PAYMENT.c.kind == "acquiring",
    )
    count = func.count().label("n")
    async with engine.connect() as conn:
        partner, acquiring = (
            await conn.execute(
                select(PAYMENT.c.partner_id, count)
                .where(*tenant_acquiring)
                .group_by(PAYMENT.c.partner_id)
                .order_by(count.desc(), PAYMENT.c.partner_id)
                .limit(1)
            )
        ).one()
        moments = await conn.scalars(
            select(PAYMENT.c.created_at).where(*tenant_acquiring, PAYMENT.c.partner_id == partner)
        )
        tally: dict[tuple[int, int], int] = {}
        for moment in moments:  # by month in Python: the same on SQLite and PostgreSQL
            key = (moment.year, moment.month)
            tally[key] = tally.get(key, 0) + 1
    year, month = min(tally, key=lambda key: (-tally[key], key))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return Targets(
        partner=partner,
        month_from=f"{year:04d}-{month:02d}-01T00:00:00Z",
        month_to=f"{last.isoformat()}T23:59:59.999999Z",
        acquiring=acquiring,
    )


def targets_at(database_url: str) -> Targets:
    """`targets` of the database at `database_url`, from synchronous code."""

    async def find() -> Targets:
        async with engine_for(database_url) as engine:
            return await targets(engine)

    return asyncio.run(find())


def reads(at: Targets, w1_page: int = W1_PAGE, w2_page: int = W2_PAGE) -> list[Read]:
    """W1-W3 on the dataset `at` points into; the page sizes can be changed to show that
    statements per request do not depend on them."""
    year = {"fromDate": "2025-01-01T00:00:00Z", "toDate": "2025-12-31T23:59:59Z"}
    month = {"fromDate": at.month_from, "toDate": at.month_to}
    return [
        Read("W1", "dashboard page", document("w1_dashboard"), {"first": w1_page}),
        Read(
            "W2",
            "portfolio page",
            document("w2_portfolio"),
            {"partner": at.partner, "pageSize": w2_page, **year},
        ),
        Read(
            "W3",
            "statement aggregate",
            document("w3_statement"),
            {"partner": at.partner, **month},
        ),
    ]


async def reviewable_documents(engine: AsyncEngine, limit: int) -> list[tuple[int, int]]:
    """(payment, document) pairs W4 can approve, each once: a pending document of each of
    tenant 1's commission payments in a status that allows a review. One per payment: the
    approval of its last required document moves the payment out of review."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT d.payment_id, min(d.id) FROM payment_document d "
                "JOIN payment p ON p.id = d.payment_id "
                "WHERE p.tenant_id = :t AND p.kind = 'commission' AND d.status = 'pending' "
                f"AND p.status IN ({', '.join(repr(s) for s in REVIEWABLE)}) "
                "GROUP BY d.payment_id ORDER BY d.payment_id LIMIT :n"
            ),
            {"t": TENANT, "n": limit},
        )
        return [(payment, doc) for payment, doc in rows]


def approval(payment: int, doc: int) -> dict[str, Any]:
    return {
        "query": document("w4_approve"),
        "variables": {"paymentId": payment, "documentId": doc},
    }
