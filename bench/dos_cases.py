"""The denial-of-service cases of issue 17, each against a fresh server (so its peak RSS
is its own): the 15-alias query, exports whose clients stop reading, payouts against an
8-second provider, forbidden 10 MB uploads, and a half-sent request header. The
bad-input list and the demo documents are in bench/dos_inputs.py."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.dos_data import connections, partner_payments, payable_payments
from bench.dos_http import CAP_S, Outcome, client, every, graphql, send, summary
from bench.dos_inputs import bad_inputs, demo_documents
from bench.dos_report import Section, answer, answers, mib, seconds, size, tally
from bench.dos_target import Target, kill, sqlite_demo
from bench.servers import Server
from tests.graphql import global_id
from tests.payout_receiver import payout_receiver

# One alias of the query: 122 characters alone, 1,793 with 15 of them.
ALIAS = (
    "payments(first:200){nodes{id partner{payments(pageSize:200){data{id "
    "partner{payments(pageSize:200){data{id}}}}}}}}"
)
CHEAP = "{ payments(first: 1) { nodes { id } } }"
DASHBOARD = (Path(__file__).parent / "queries" / "w1_dashboard.graphql").read_text()
DASHBOARD_PAGE = {"first": 20}  # a W1-like page of 20 payments
PAY = (
    "mutation($id: ID!, $key: String!) { payPartnerPayment(id: $id, idempotencyKey: $key, "
    'comments: "bench/dos") { success payment { status } } }'
)
UPLOAD = (
    "mutation($id: ID!, $file: Upload!) { addPaymentDocument(paymentId: $id, "
    'documentType: "bank_statement", file: $file) { success } }'
)
EXPORT_CLIENTS = 20
READ_WINDOW_S = 15.0
PAYOUTS = 24
PROVIDER_DELAY_S = 8.0
UPLOADS = 20
UPLOAD_BYTES = 10_000_000


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{n}: {ALIAS}" for n in range(count)) + " }"


def heavy_query(target: Target) -> list[Section]:
    """1. The 15-alias query, a cheap query every 0.25 s meanwhile"""
    section = Section(
        "1. The 15-alias query (30,000-payment PostgreSQL demo)",
        [
            "query",
            "answer",
            "time to answer or refusal",
            "response",
            "cheap query: worst wait",
            "server RSS before",
            "peak RSS",
            "RSS after",
        ],
    )
    token = target.token()
    with target.serving("heavy-query", token) as server:
        before = server.rss_mib()
        heavy, cheap, peak, after = asyncio.run(_heavy_query(server))
    worst = summary(cheap)
    section.rows.append(
        [
            f"15 aliases, {len(aliases(15)):,} characters",
            answer(heavy),
            seconds(heavy.seconds, capped=heavy.error is not None),
            size(heavy.bytes),
            f"{seconds(worst['worst_s'])} ({worst['ok']}/{worst['sent']} answered)",
            mib(before),
            mib(peak),
            mib(after),
        ]
    )
    sqlite = sqlite_demo(target)
    with sqlite.serving("one-alias-sqlite", token) as server:
        before = server.rss_mib()
        one = asyncio.run(_one(server, aliases(1)))
        section.rows.append(
            [
                f"1 alias, {len(aliases(1))} characters, SQLite 2,000-payment demo",
                answer(one),
                seconds(one.seconds, capped=one.error is not None),
                size(one.bytes),
                "-",
                mib(before),
                mib(server.rss_mib("VmHWM")),
                mib(server.rss_mib()),
            ]
        )
    section.notes.append(
        f"The cheap query (`{CHEAP}`) was sent every 0.25 s while the big one ran; those "
        f"not answered: {tally(worst['failures'])}. When the big query hits the cap the "
        "server is killed: peak RSS is the peak so far, and the cheap queries still waiting "
        "end with a read or connect error (the time they had waited counts)."
    )
    section.raw = {"heavy": heavy.as_json(), "cheap": worst, "one_alias_sqlite": one.as_json()}
    return [section]


async def _heavy_query(server: Server) -> tuple[Outcome, list[Outcome], float, float]:
    async with client() as http:
        stop = asyncio.Event()
        ticks = asyncio.create_task(
            every(0.25, stop, lambda: graphql(http, server.url, server.token, CHEAP))
        )
        heavy = await graphql(http, server.url, server.token, aliases(15))
        peak, after = server.rss_mib("VmHWM"), server.rss_mib()
        if heavy.error is not None:
            kill(server)  # still building its answer: the waiting cheap queries end here
        stop.set()
        return heavy, await ticks, peak, after


async def _one(server: Server, query: str) -> Outcome:
    async with client() as http:
        return await graphql(http, server.url, server.token, query)


def stalled_exports(target: Target) -> list[Section]:
    """2. 20 export clients that stop reading, then dashboard reads and /readyz"""
    section = Section(
        "2. 20 exports whose clients stopped reading",
        [
            "probe (for 15 s after the exports started)",
            "sent",
            "succeeded",
            "p50",
            "worst",
            "failures",
        ],
    )
    token = target.token()
    with target.serving("stalled-exports", token) as server:
        stalled = [_stalled_export(server) for _ in range(EXPORT_CLIENTS)]
        try:
            time.sleep(2)  # the exports start and fill the socket buffers
            reads, ready, held = asyncio.run(_reads_meanwhile(target, server))
        finally:
            for sock in stalled:
                sock.close()
    _timing_rows(
        section,
        ("dashboard page of 20 (W1), every 0.5 s", reads),
        ("GET /readyz, every 1 s", ready),
    )
    section.notes.append(
        f"Each export client sends `POST /exports/payments` (all of tenant 1's payments, "
        f"NDJSON) on a socket with a 4 KiB receive buffer and never reads. Database "
        f"sessions of the server during the window: at most {max(held)}."
    )
    section.raw = {
        "reads": summary(reads),
        "readyz": summary(ready),
        "readyz_statuses": [outcome.status for outcome in ready],
        "database_sessions": held,
    }
    return [section]


def _timing_rows(section: Section, *named: tuple[str, list[Outcome]]) -> None:
    """A row per kind of request: name, sent, succeeded, p50, worst, failures."""
    for name, outcomes in named:
        found = summary(outcomes)
        section.rows.append(
            [
                name,
                found["sent"],
                found["ok"],
                seconds(found["p50_s"]),
                seconds(found["worst_s"]),
                tally(found["failures"]),
            ]
        )


def _stalled_export(server: Server) -> socket.socket:
    body = b'{"format": "ndjson"}'
    address = urlsplit(server.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no autotuning
    sock.connect((address.hostname, address.port))
    sock.sendall(
        f"POST /exports/payments HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Bearer {server.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return sock


async def _reads_meanwhile(
    target: Target, server: Server
) -> tuple[list[Outcome], list[Outcome], list[int]]:
    async with client() as http:
        stop = asyncio.Event()
        reads = asyncio.create_task(every(0.5, stop, lambda: _dashboard(http, server)))
        ready = asyncio.create_task(
            every(1.0, stop, lambda: send(http, "GET", f"{server.url}/readyz"))
        )
        held = []
        for _ in range(int(READ_WINDOW_S)):
            held.append(await connections(target.database_url))
            await asyncio.sleep(1)
        stop.set()
        return await reads, await ready, held


async def _dashboard(http: httpx.AsyncClient, server: Server) -> Outcome:
    return await graphql(http, server.url, server.token, DASHBOARD, DASHBOARD_PAGE)


def slow_payouts(target: Target) -> list[Section]:
    """3. 24 concurrent payouts against an 8-second provider, reads meanwhile"""
    section = Section(
        "3. 24 concurrent payPartnerPayment against a provider that takes 8 s",
        ["requests", "sent", "succeeded", "p50", "worst", "failures"],
    )
    token = target.token()
    ids = asyncio.run(payable_payments(target.database_url, PAYOUTS))
    with payout_receiver() as provider:
        provider.mode, provider.slow_seconds = "slow", PROVIDER_DELAY_S
        settings = {"PAYGRAPH_PAYOUT_PROVIDER": "http", "PAYGRAPH_PAYOUT_URL": provider.url}
        with target.serving("slow-payouts", token, **settings) as server:
            payouts, reads, ready = asyncio.run(_payouts_and_reads(server, ids))
        calls = len(provider.calls)
    _timing_rows(
        section,
        (f"payPartnerPayment x{PAYOUTS}, at once", payouts),
        ("dashboard page of 20 (W1), every 0.5 s meanwhile", reads),
        ("GET /readyz, every 1 s meanwhile", ready),
    )
    section.notes.append(
        f"The provider (tests/payout_receiver.py, mode slow) answered {calls} calls, each "
        f"after {PROVIDER_DELAY_S:.0f} s; PAYGRAPH_PAYOUT_TIMEOUT is the default. The "
        "payments are the demo's first 24 payable commission payments of tenant 1."
    )
    section.raw = {
        "payouts": summary(payouts),
        "payout_answers": [answer(outcome) for outcome in payouts],
        "reads": summary(reads),
        "readyz": summary(ready),
        "provider_calls": calls,
    }
    return [section]


async def _payouts_and_reads(
    server: Server, ids: list[int]
) -> tuple[list[Outcome], list[Outcome], list[Outcome]]:
    async with client() as http:
        stop = asyncio.Event()
        reads = asyncio.create_task(every(0.5, stop, lambda: _dashboard(http, server)))
        ready = asyncio.create_task(
            every(1.0, stop, lambda: send(http, "GET", f"{server.url}/readyz"))
        )
        await asyncio.sleep(1)  # a baseline before the payouts
        payouts = await asyncio.gather(
            *(
                graphql(
                    http,
                    server.url,
                    server.token,
                    PAY,
                    {"id": global_id("Payment", pid), "key": f"bench-dos-{pid}"},
                )
                for pid in ids
            )
        )
        stop.set()
        return list(payouts), await reads, await ready


def forbidden_uploads(target: Target) -> list[Section]:
    """4. 20 concurrent 10 MB uploads from a token without the upload permission"""
    section = Section(
        "4. 20 concurrent 10 MB uploads from a token that may not upload",
        [
            "uploads",
            "answers",
            "time until all answered",
            "server RSS before",
            "peak RSS",
            "RSS 3 s after",
        ],
    )
    reader = target.token(permissions=("view-payments",))
    payment = asyncio.run(partner_payments(target.database_url, 1))[0].payment_id
    with target.serving("forbidden-uploads", reader) as server:
        before = server.rss_mib()
        started = time.perf_counter()
        outcomes = asyncio.run(_uploads(server, global_id("Payment", payment)))
        took = time.perf_counter() - started
        peak = server.rss_mib("VmHWM")
        time.sleep(3)
        after = server.rss_mib()
    answered = answers(outcomes)
    section.rows.append(
        [
            f"{UPLOADS} x {UPLOAD_BYTES / 1e6:.0f} MB",
            tally(answered),
            seconds(took),
            mib(before),
            mib(peak),
            mib(after),
        ]
    )
    section.notes.append(
        "The token is an admin's with `view-payments` only (no `request-partner-payments`); "
        "each upload is a GraphQL multipart `addPaymentDocument` of a 10,000,000-byte PDF."
    )
    section.raw = {
        "answers": answered,
        "seconds": took,
        "rss_before_mib": before,
        "peak_mib": peak,
        "rss_after_mib": after,
    }
    return [section]


async def _uploads(server: Server, payment: str) -> list[Outcome]:
    form = {
        "operations": json.dumps({"query": UPLOAD, "variables": {"id": payment, "file": None}}),
        "map": json.dumps({"0": ["variables.file"]}),
    }
    content = b"%PDF-1.4\n" + bytes(UPLOAD_BYTES - 9)
    headers = {"Authorization": f"Bearer {server.token}"}
    async with client() as http:
        return list(
            await asyncio.gather(
                *(
                    send(
                        http,
                        "POST",
                        f"{server.url}/graphql",
                        data=form,
                        headers=headers,
                        files={"0": ("statement.pdf", content, "application/pdf")},
                    )
                    for _ in range(UPLOADS)
                )
            )
        )


def half_header(target: Target) -> list[Section]:
    """7. A connection that sends half a request header"""
    section = Section(
        "7. A connection that sends half a request header",
        ["sent", "what happened", "after"],
    )
    with target.serving("half-header", target.token()) as server:
        happened, waited = _half_header(server)
    section.rows.append(
        [
            "`GET /healthz HTTP/1.1`, Host, then half a header line",
            happened,
            seconds(waited, capped=waited >= CAP_S),
        ]
    )
    section.raw = {"what": happened, "seconds": waited}
    return [section]


def _half_header(server: Server) -> tuple[str, float]:
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port)) as sock:
        sock.settimeout(CAP_S)
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {address.netloc}\r\nX-Half: ".encode())
        started = time.perf_counter()
        try:
            first = sock.recv(65536)
        except TimeoutError:
            return "still open", time.perf_counter() - started
        except ConnectionResetError:
            return "reset by the server", time.perf_counter() - started
        waited = time.perf_counter() - started
        if not first:
            return "closed by the server, no answer", waited
        status_line = first.split(b"\r\n", 1)[0].decode(errors="replace")
        return f"answered `{status_line}`", waited


CASES: list[Any] = [
    heavy_query,
    stalled_exports,
    slow_payouts,
    forbidden_uploads,
    bad_inputs,
    demo_documents,
    half_header,
]
