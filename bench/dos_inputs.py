"""Issue 17's bad inputs, sent one by one over HTTP, each with the row counts of the
written tables before and after it; and a sample of the demo's document downloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.dos_data import (
    WATCHED_TABLES,
    admin_user,
    commission_payments,
    document_sample,
    open_invoice,
    partner_payments,
    row_counts,
)
from bench.dos_http import Outcome, client, encoded, graphql, send
from bench.dos_report import Section, answer, answers, seconds, tally
from bench.dos_target import Target
from tests.graphql import global_id

COUNT = "query($r: String!) { payments(filter: {reference: {%s: $r}}) { totalCount } }"
CREATED = 'query { payments(filter: {createdAt: {%s: "%s"}}) { totalCount } }'
ANY_FILTER = "query($f: PaymentFilter) { payments(filter: $f) { totalCount } }"
REVIEW = (
    "mutation($id: ID!, $c: String!) { sendPaymentToInternalReview(id: $id, comments: $c) "
    "{ success } }"
)
MARK_PAID = (
    "mutation($id: ID!, $at: DateTime!, $key: String!) { markPartnerPaymentAsPaid(id: $id, "
    "paidAt: $at, idempotencyKey: $key) { success replayed } }"
)
PAY_INVOICE = (
    "mutation($invoice: ID!, $input: InvoicePaymentInput!, $key: String!) { "
    "createInvoicePayment(invoiceId: $invoice, input: $input, idempotencyKey: $key) "
    "{ success replayed } }"
)
UPLOAD = (
    "mutation($id: ID!, $file: Upload!) { addPaymentDocument(paymentId: $id, "
    'documentType: "bank_statement", file: $file) { success } }'
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(240)
UNKNOWN_ID = 987_654_321
PARTNER_PERMISSIONS = ("request-partner-payments", "view-partner-payments")

Send = Callable[[], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class Callers:
    admin: str  # tenant 1's admin, every permission
    partner: list[str]  # a partner user of each upload target's partner
    unknown_user: str  # tenant 1, a user id that does not exist
    unknown_tenant: str  # a tenant id that does not exist
    cross_tenant: str  # tenant 2, naming tenant 1's admin as its user


@dataclass(frozen=True, slots=True)
class Rows:
    """Global IDs of the rows the inputs are aimed at."""

    review: str  # a payment_requested commission payment
    approved: str  # an approved_for_payment one
    uploads: list[str]  # payments whose partner user may upload, without a bank statement
    invoice: str  # tenant 1, open, with room
    invoice_2: str  # tenant 2, open, with room


def bad_inputs(target: Target) -> list[Section]:
    """5. The bad-input list, each with the rows written"""
    section = Section(
        "5. Bad inputs",
        ["input", "answer", "time", "rows written", "note"],
    )
    rows, callers = asyncio.run(_aim(target)), _callers(target)
    with target.serving("bad-inputs", callers.admin) as server:
        found = asyncio.run(_send_all(target, server.url, rows, callers))
    for name, outcome, written, note in found:
        delta = ", ".join(f"{table} +{n}" for table, n in written.items() if n) or "nothing"
        section.rows.append([name, answer(outcome), seconds(outcome.seconds), delta, note])
    section.notes.append(
        f"Rows written: the change in the row counts of {', '.join(WATCHED_TABLES)} across "
        "the request (the server runs no background job meanwhile: expiry off, outbox idle)."
    )
    section.raw = {
        name: {"outcome": outcome.as_json(), "written": written, "note": note}
        for name, outcome, written, note in found
    }
    return [section]


async def _aim(target: Target) -> Rows:
    dsn = target.database_url
    uploads = await partner_payments(dsn, 3)
    return Rows(
        review=global_id("Payment", (await commission_payments(dsn, "payment_requested", 1))[0]),
        approved=global_id(
            "Payment", (await commission_payments(dsn, "approved_for_payment", 1))[0]
        ),
        uploads=[global_id("Payment", row.payment_id) for row in uploads],
        invoice=global_id("Invoice", await open_invoice(dsn, 1, room=10_000)),
        invoice_2=global_id("Invoice", await open_invoice(dsn, 2, room=10_000)),
    )


def _callers(target: Target) -> Callers:
    dsn = target.database_url
    admin_1 = asyncio.run(admin_user(dsn, 1))
    partners = asyncio.run(partner_payments(dsn, 3))
    return Callers(
        admin=target.token(user=admin_1),
        partner=[
            target.token(user=row.user_id, partner=row.partner_id, permissions=PARTNER_PERMISSIONS)
            for row in partners
        ],
        unknown_user=target.token(user=UNKNOWN_ID),
        unknown_tenant=target.token(tenant=UNKNOWN_ID, user=admin_1),
        cross_tenant=target.token(tenant=2, user=admin_1),
    )


async def _send_all(
    target: Target, url: str, rows: Rows, callers: Callers
) -> list[tuple[str, Outcome, dict[str, int], str]]:
    found = []
    async with client() as http:
        for name, call in _inputs(http, url, rows, callers):
            before = await row_counts(target.database_url)
            outcome = await call()
            after = await row_counts(target.database_url)
            written = {table: after[table] - before[table] for table in WATCHED_TABLES}
            found.append((name, outcome, written, _note(outcome)))
    return found


def _note(outcome: Outcome) -> str:
    """What the answer's data says (`replayed: true` for an idempotency key taken as
    another), and whether a refusal carried its X-Request-Id."""
    words = []
    if isinstance(outcome.data, dict):
        for payload in outcome.data.values():
            if isinstance(payload, dict) and "replayed" in payload:
                words.append(f"replayed: {json.dumps(payload['replayed'])}")
    if (outcome.status is not None and outcome.status >= 400) or outcome.codes:
        words.append(f"X-Request-Id: {'yes' if outcome.request_id else 'no'}")
    return "; ".join(words)


def _inputs(
    http: httpx.AsyncClient, url: str, rows: Rows, callers: Callers
) -> list[tuple[str, Send]]:
    """Every bad input of the issue, as (name, a call that sends it), in order."""

    def query(text: str, variables: dict[str, Any] | None = None, token: str = "") -> Send:
        return lambda: graphql(http, url, token or callers.admin, text, variables)

    def raw_body(body: bytes) -> Send:
        headers = {"Authorization": f"Bearer {callers.admin}", "Content-Type": "application/json"}
        return lambda: send(http, "POST", f"{url}/graphql", content=body, headers=headers)

    def pay_invoice(amount: str, key: str, token: str = "", invoice: str = "", **more: str) -> Send:
        variables = {
            "invoice": invoice or rows.invoice,
            "input": {"amount": amount, **more},
            "key": key,
        }
        return query(PAY_INVOICE, variables, token)

    def upload(payment: str, token: str, name: str, content: bytes) -> Send:
        operations = {"query": UPLOAD, "variables": {"id": payment, "file": None}}
        form = {"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})}
        files = {"0": (name, content, "application/pdf")}
        headers = {"Authorization": f"Bearer {token}"}
        return lambda: send(http, "POST", f"{url}/graphql", data=form, files=files, headers=headers)

    many_lists = {"or": [{"amount": {"in": list(range(1, 501))}}] * 70}
    return [
        ("JSON body `null`", raw_body(b"null")),
        ("JSON body `42`", raw_body(b"42")),
        ('JSON body `"x"`', raw_body(b'"x"')),
        ("NUL in a `reference` filter (eq)", query(COUNT % "eq", {"r": "ref\x00x"})),
        ("NUL in a `contains` filter", query(COUNT % "contains", {"r": "ref\x00x"})),
        (
            "NUL in `comments` (sendPaymentToInternalReview)",
            query(REVIEW, {"id": rows.review, "c": "looks fine\x00"}),
        ),
        ('lone surrogate `"\\ud800"` in a variable', query(COUNT % "eq", {"r": "\ud800"})),
        (
            "createdAt gte `9999-12-31T23:59:59-23:59`",
            query(CREATED % ("gte", "9999-12-31T23:59:59-23:59")),
        ),
        (
            "createdAt lte `0001-01-01T00:00:00+14:00`",
            query(CREATED % ("lte", "0001-01-01T00:00:00+14:00")),
        ),
        (
            f"`or: [{{amount: {{in: [1..500]}}}}] x70` ({len(encoded(many_lists)):,} B)",
            query(ANY_FILTER, {"f": many_lists}),
        ),
        (
            "upload file name of 1,004 characters (partner user)",
            upload(rows.uploads[0], callers.partner[0], "a" * 1000 + ".pdf", PDF),
        ),
        (
            "HTML sent as application/pdf (partner user)",
            upload(rows.uploads[1], callers.partner[1], "statement.pdf", HTML),
        ),
        (
            "executable (MZ) sent as application/pdf (partner user)",
            upload(rows.uploads[2], callers.partner[2], "statement.pdf", EXECUTABLE),
        ),
        (
            "signed token of a user that does not exist (createInvoicePayment)",
            pay_invoice("7", "bench-dos-unknown-user", callers.unknown_user),
        ),
        (
            "signed token of a tenant that does not exist (createInvoicePayment)",
            pay_invoice("7", "bench-dos-unknown-tenant", callers.unknown_tenant),
        ),
        (
            "tenant-2 token naming a tenant-1 user (createInvoicePayment in tenant 2)",
            pay_invoice("7", "bench-dos-cross-tenant", callers.cross_tenant, rows.invoice_2),
        ),
        (
            'paidAt `"0001-01-01T00:00:00Z"` (markPartnerPaymentAsPaid)',
            query(
                MARK_PAID,
                {"id": rows.approved, "at": "0001-01-01T00:00:00Z", "key": "bench-dos-paid-at"},
            ),
        ),
        (
            'paymentDate `"0001-01-01"` (createInvoicePayment)',
            pay_invoice("10", "bench-dos-payment-date", paymentDate="0001-01-01"),
        ),
        ('amount `" 12"`', pay_invoice(" 12", "bench-dos-amount-space")),
        ('amount `"+12"`', pay_invoice("+12", "bench-dos-amount-plus")),
        ('amount `"١٢"` (Arabic-Indic digits)', pay_invoice("١٢", "bench-dos-amount-arabic")),
        ('idempotency key `"abc"` (first use, control)', pay_invoice("5", "abc")),
        ('idempotency key `"abc "`, same input', pay_invoice("5", "abc ")),
        ('idempotency key `" abc"`, same input', pay_invoice("5", " abc")),
    ]


def demo_documents(target: Target) -> list[Section]:
    """6. A sample of 20 of the demo's documents, downloaded"""
    section = Section(
        "6. The demo's documents: GET /documents/{id}/content",
        ["documents", "answers", "worst time"],
    )
    ids = asyncio.run(document_sample(target.database_url, 20))
    token = target.token(user=asyncio.run(admin_user(target.database_url, 1)))
    with target.serving("demo-documents", token) as server:
        outcomes = asyncio.run(_downloads(server.url, token, ids))
    section.rows.append(
        [
            f"{len(ids)} of tenant 1's, ids {ids[0]}..{ids[-1]}",
            tally(answers(outcomes)),
            seconds(max(outcome.seconds for outcome in outcomes)),
        ]
    )
    section.raw = {"ids": ids, "answers": [outcome.as_json() for outcome in outcomes]}
    return [section]


async def _downloads(url: str, token: str, ids: list[int]) -> list[Outcome]:
    headers = {"Authorization": f"Bearer {token}"}
    async with client() as http:
        return [
            await send(http, "GET", f"{url}/documents/{document}/content", headers=headers)
            for document in ids
        ]
