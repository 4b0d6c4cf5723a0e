"""`paygraph statement` end to end: a real server (`paygraph serve` in a subprocess, on
SQLite and PostgreSQL), the CLI run in this process against it, and the files it writes
read back: the CSV line by line, the JSON totals, and the PDF opened with pypdf.

One tenant is seeded with six partners (Alpha with 14 merchants, one of them with more
than 200 payments in the month and one payment with more than 50 detail rows; Beta, with
a merchant of exactly 200 payments and unknown paid and settleable amounts; Gamma, a
reseller below Alpha; Delta, with nothing in the month; Epsilon, with 70 merchants and so
more merchant-currency groups than one page of the gateway's aggregate; Zeta, without a
merchant) and, around them, every payment a statement must leave out: the month before
and after (to the microsecond), other kinds, other partners' merchants and another
tenant. The expectations are computed here, in plain Python, from the rows as seeded;
the request counts the CLI prints are held to what a counting proxy saw."""

from __future__ import annotations

import asyncio
import csv
import json
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.aggregates import rounded_quotient
from domain.money import Money
from domain.permissions import COMPLETE_PAYMENTS, VIEW_PAYMENTS
from domain.statements import Month, StatementLine, StatementMismatch
from gateway.auth import mint_token
from gateway.cli import main
from gateway.settings import Settings
from gateway.statement_client import DETAILS_PAGE, MerchantRef, StatementSource
from gateway.statement_run import generate_statements
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, query, running_server
from tests.e2e.test_reseller_completion_http import manager_token
from tests.factories import Factory, unique
from tests.live_server import serving

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
MONTH = Month(2024, 2)  # a leap February: its last moment is the 29th, 23:59:59.999999
FIRST = datetime(2024, 2, 1, tzinfo=UTC)
LAST = datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC)
CURRENCIES = ("EUR", "JPY", "USD")
ACQUIRING_STATUSES = (
    "created",
    "processing",
    "completed",
    "invalid",
    "underpaid",
    "overpaid",
    "refunded",
)
BIG_MERCHANT_PAYMENTS = 230  # more than one page of 200
MANY_DETAILS = 61  # more than the client's first page of detail rows (DETAILS_PAGE)
ALPHA_MERCHANTS = 14  # more than the 12 merchants of one request
SAME_MOMENT = 25  # payments of the big merchant created at one moment
EPSILON_MERCHANTS = 70  # x 3 currencies: more groups than the aggregate's page of 200
SUMMARY = re.compile(
    r"^(?P<files>\S+): partner (?P<partner>\d+), (?P<payments>[\d,]+) payments of "
    r"(?P<merchants>\d+) merchants, reconciled; (?P<requests>\d+) GraphQL requests in "
    r"(?P<seconds>[\d.]+) s$"
)


# --- the seeded world ---------------------------------------------------------------------


@dataclass
class Detail:
    carrier: str
    amount: int
    currency: str


@dataclass
class Seeded:
    """One payment that belongs in a statement, as seeded."""

    id: int
    merchant_id: int
    status: str
    currency: str
    amount: int
    paid_amount: int | None
    settleable_amount: int | None
    created_at: datetime
    reference: str | None
    details: list[Detail] = field(default_factory=list)


@dataclass
class PartnerSeed:
    id: int
    name: str
    merchants: dict[int, str]  # every merchant of the partner, with or without payments
    payments: list[Seeded] = field(default_factory=list)

    def of_merchant(self, merchant_id: int) -> list[Seeded]:
        return [p for p in self.payments if p.merchant_id == merchant_id]

    @property
    def merchants_with_payments(self) -> list[int]:
        return sorted({p.merchant_id for p in self.payments})


@dataclass
class World:
    tenant_id: int
    alpha: PartnerSeed
    beta: PartnerSeed
    gamma: PartnerSeed  # a reseller below alpha
    delta: PartnerSeed  # no payment in the month
    epsilon: PartnerSeed  # more merchant-and-currency groups than one page of the aggregate
    zeta: PartnerSeed  # no merchant at all
    other_tenant_partner_id: int
    manager_token: str  # alpha's manager: alpha and gamma
    big_merchant_id: int
    many_details_payment_id: int
    mixed_details_payment_id: int
    excluded_ids: set[int] = field(default_factory=set)
    admin_id: int = 0  # the users the tokens below name: the gateway refuses unknown ones
    partner_user_id: int = 0

    @property
    def partners(self) -> list[PartnerSeed]:
        return [self.alpha, self.beta, self.gamma, self.delta, self.epsilon, self.zeta]

    def admin_token(self, *permissions: str) -> str:
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=self.admin_id,
            permissions=permissions or (VIEW_PAYMENTS,),
        )

    def partner_token(self, partner: PartnerSeed) -> str:
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=self.partner_user_id,
            permissions=(VIEW_PAYMENTS,),
            partner_id=partner.id,
        )


class Seeder:
    """Builds the rows, inserts them in a few statements, and remembers what belongs in
    which statement."""

    def __init__(self, engine: AsyncEngine, tenant_id: int) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self.random = random.Random(20240229)
        self.rows: list[dict[str, Any]] = []
        self.details: list[list[Detail]] = []
        self.targets: list[PartnerSeed | None] = []  # the statement each row belongs to

    def payment(
        self,
        target: PartnerSeed | None,
        *,
        partner_id: int,
        merchant_id: int,
        created_at: datetime,
        kind: str = "acquiring",
        status: str | None = None,
        currency: str | None = None,
        details: Sequence[Detail] = (),
        tenant_id: int | None = None,
    ) -> int:
        """Queue one payment; returns its index. `target` is the partner whose statement
        must show it (None: no statement may)."""
        rnd = self.random
        index = len(self.rows)
        currency = currency or rnd.choice(CURRENCIES)
        amount = rnd.randint(1, 250_000) if currency != "JPY" else rnd.randint(1, 90_000)
        paid = None if index % 7 == 3 else amount - rnd.randint(0, amount // 4)
        settleable = None if index % 5 == 1 else (paid or amount) - rnd.randint(0, 99)
        self.rows.append(
            {
                "tenant_id": tenant_id or self.tenant_id,
                "kind": kind,
                "status": status or ACQUIRING_STATUSES[index % len(ACQUIRING_STATUSES)],
                "amount": amount,
                "currency": currency,
                "paid_amount": paid,
                "settleable_amount": max(settleable, 0) if settleable is not None else None,
                "partner_id": partner_id,
                "merchant_id": merchant_id,
                "reference": None if index % 11 == 0 else f"ref-{index:05d}",
                "created_at": created_at,
                "updated_at": created_at,
            }
        )
        self.details.append(list(details))
        self.targets.append(target)
        return index

    def some_details(self, currency: str) -> list[Detail]:
        count = self.random.choice((0, 0, 0, 1, 2, 3))
        return [
            Detail(
                self.random.choice(("DHL", "UPS", "FedEx")), self.random.randint(1, 999), currency
            )
            for _ in range(count)
        ]

    async def insert(self) -> list[int]:
        """Insert every queued payment and detail; the payments' ids in queue order."""
        table = m.Payment.__table__
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        async with self.engine.begin() as connection:
            result = await connection.execute(statement, self.rows)
            ids = [int(row_id) for row_id in result.scalars()]
            detail_rows = [
                {
                    "tenant_id": row["tenant_id"],
                    "payment_id": payment_id,
                    "partner_id": row["partner_id"],
                    "carrier": detail.carrier,
                    "amount": detail.amount,
                    "currency": detail.currency,
                    "created_at": row["created_at"],
                }
                for payment_id, row, details in zip(ids, self.rows, self.details, strict=True)
                for detail in details
            ]
            if detail_rows:
                await connection.execute(insert(m.PaymentDetail.__table__), detail_rows)
        for payment_id, row, details, target in zip(
            ids, self.rows, self.details, self.targets, strict=True
        ):
            if target is None:
                continue
            target.payments.append(
                Seeded(
                    id=payment_id,
                    merchant_id=row["merchant_id"],
                    status=row["status"],
                    currency=row["currency"],
                    amount=row["amount"],
                    paid_amount=row["paid_amount"],
                    settleable_amount=row["settleable_amount"],
                    created_at=row["created_at"],
                    reference=row["reference"],
                    details=details,
                )
            )
        return ids


def in_month(rnd: random.Random) -> datetime:
    """A moment inside the month, to the microsecond."""
    span = int((LAST - FIRST).total_seconds())
    return FIRST + timedelta(seconds=rnd.randint(0, span - 1), microseconds=rnd.randint(0, 999_999))


async def partner_seed(
    f: Factory, tenant: int, name: str, merchants: int, **values: Any
) -> PartnerSeed:
    partner_id = await f.partner(tenant, name=name, **values)
    seed = PartnerSeed(partner_id, name, {})
    for number in range(merchants):
        merchant_name = f"{name.split()[0]} Shop {number + 1:02d}"
        merchant_id = await f.insert(
            m.Merchant,
            tenant_id=tenant,
            partner_id=partner_id,
            name=merchant_name,
            external_ref=unique("mrc_"),
        )
        seed.merchants[merchant_id] = merchant_name
    return seed


async def seed_world(engine: AsyncEngine) -> World:
    f = Factory(engine)
    tenant = await f.tenant()
    suffix = unique("")
    alpha = await partner_seed(f, tenant, f"Alpha Payments {suffix}", ALPHA_MERCHANTS)
    beta = await partner_seed(f, tenant, f"Beta Acquiring {suffix}", 3)
    gamma = await partner_seed(f, tenant, f"Gamma Resale {suffix}", 2, parent_id=alpha.id)
    delta = await partner_seed(f, tenant, f"Delta Quiet {suffix}", 1)
    epsilon = await partner_seed(f, tenant, f"Epsilon Chain {suffix}", EPSILON_MERCHANTS)
    zeta = await partner_seed(f, tenant, f"Zeta Bare {suffix}", 0)
    other_tenant = await f.tenant()
    outsider = await partner_seed(f, other_tenant, f"Outsider {suffix}", 1)
    admin_id = await f.user(tenant)
    partner_user_id = await f.user(tenant, role="partner", partner_id=alpha.id)
    token, _ = await manager_token(engine, tenant, alpha.id, (VIEW_PAYMENTS, COMPLETE_PAYMENTS))

    s = Seeder(engine, tenant)
    rnd = s.random
    alpha_merchants = list(alpha.merchants)
    big = alpha_merchants[0]

    def add(target: PartnerSeed, merchant: int, **values: Any) -> int:
        currency = values.pop("currency", None) or rnd.choice(CURRENCIES)
        details = values.pop("details", None)
        if details is None:
            details = s.some_details(currency)
        return s.payment(
            target,
            partner_id=target.id,
            merchant_id=merchant,
            currency=currency,
            details=details,
            created_at=values.pop("created_at", None) or in_month(rnd),
            **values,
        )

    # In the month: a merchant with more than one page, every other merchant a few
    for _ in range(BIG_MERCHANT_PAYMENTS):
        add(alpha, big)
    for merchant in alpha_merchants[1:]:
        for _ in range(rnd.randint(2, 6)):
            add(alpha, merchant)
    for _ in range(SAME_MOMENT):  # the same createdAt across the big merchant's pages
        add(alpha, big, created_at=datetime(2024, 2, 14, 12, tzinfo=UTC))
    for _ in range(200):  # exactly one full page
        add(beta, list(beta.merchants)[2])
    for merchant in epsilon.merchants:  # one group per merchant and currency
        for currency in CURRENCIES:
            add(epsilon, merchant, currency=currency)
    for seed in (beta, gamma):
        for merchant in list(seed.merchants)[:2]:
            for _ in range(rnd.randint(5, 12)):
                add(seed, merchant)
    # ... every midnight of the month and the microsecond before it (however a client
    # cuts the month into windows of days, no payment may fall between two of them)
    for day in range(29):
        midnight = FIRST + timedelta(days=day)
        add(alpha, alpha_merchants[5], created_at=midnight)
        if day:
            add(alpha, alpha_merchants[5], created_at=midnight - timedelta(microseconds=1))
    # ... the month's first and last microsecond, and a moment given with an offset
    add(alpha, alpha_merchants[1], created_at=FIRST, currency="USD")
    add(alpha, alpha_merchants[2], created_at=LAST, currency="JPY")
    late_evening = datetime(2024, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    add(beta, next(iter(beta.merchants)), created_at=late_evening, currency="EUR")
    # ... a payment with more detail rows than one page, and one with a foreign detail
    many = add(
        alpha,
        alpha_merchants[3],
        currency="EUR",
        details=[Detail("DHL", 100 + n, "EUR") for n in range(MANY_DETAILS)],
    )
    mixed = add(
        alpha,
        alpha_merchants[4],
        currency="USD",
        details=[Detail("UPS", 700, "USD"), Detail("UPS", 900, "EUR")],
    )
    add(alpha, alpha_merchants[4], currency="EUR")  # so the EUR detail has a EUR group
    # ... and a payment with neither a paid nor a settleable amount in each currency
    for currency in CURRENCIES:
        index = add(beta, list(beta.merchants)[1], currency=currency)
        s.rows[index]["paid_amount"] = s.rows[index]["settleable_amount"] = None
    # ... and a merchant-currency (three decimals) where neither is ever known
    for _ in range(2):
        index = add(gamma, list(gamma.merchants)[1], currency="KWD")
        s.rows[index]["paid_amount"] = s.rows[index]["settleable_amount"] = None

    # Left out: the month before and after, to the microsecond; other kinds; another
    # tenant; and anything of a merchant of another partner stays in that partner's.
    excluded = []
    for moment in (FIRST - timedelta(microseconds=1), LAST + timedelta(microseconds=1)):
        for seed in (alpha, beta, gamma, delta, epsilon):
            for merchant in seed.merchants:
                excluded.append(
                    s.payment(None, partner_id=seed.id, merchant_id=merchant, created_at=moment)
                )
    for kind, status in (
        ("commission", "generated"),
        ("reseller", "waiting_for_payment"),
        ("invoice", "recorded"),
    ):
        for seed in (alpha, beta):
            excluded.append(
                s.payment(
                    None,
                    partner_id=seed.id,
                    merchant_id=next(iter(seed.merchants)),
                    created_at=in_month(rnd),
                    kind=kind,
                    status=status,
                )
            )
    for _ in range(5):
        excluded.append(
            s.payment(
                None,
                tenant_id=other_tenant,
                partner_id=outsider.id,
                merchant_id=next(iter(outsider.merchants)),
                created_at=in_month(rnd),
            )
        )
    ids = await s.insert()
    return World(
        tenant_id=tenant,
        alpha=alpha,
        beta=beta,
        gamma=gamma,
        delta=delta,
        epsilon=epsilon,
        zeta=zeta,
        other_tenant_partner_id=outsider.id,
        manager_token=token,
        big_merchant_id=big,
        many_details_payment_id=ids[many],
        mixed_details_payment_id=ids[mixed],
        excluded_ids={ids[index] for index in excluded},
        admin_id=admin_id,
        partner_user_id=partner_user_id,
    )


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[RunningServer]:
    with running_server(database_url, env={"PAYGRAPH_EXPIRY_INTERVAL": "0"}) as running:
        yield running


@pytest.fixture(scope="module")
async def world(engine: AsyncEngine) -> AsyncIterator[World]:
    yield await seed_world(engine)


@pytest.fixture(autouse=True)
def no_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYGRAPH_TOKEN", raising=False)
    monkeypatch.delenv("PAYGRAPH_API_TOKEN", raising=False)


# --- running the CLI ----------------------------------------------------------------------


@dataclass
class Run:
    code: int
    out: str
    err: str

    def summaries(self) -> list[re.Match[str]]:
        lines = [line for line in self.out.splitlines() if line.strip()]
        found = [SUMMARY.match(line) for line in lines]
        assert all(found), self.out
        return [match for match in found if match]


class Gateway(Protocol):
    @property
    def graphql_url(self) -> str: ...


async def statement_cli(capsys: pytest.CaptureFixture[str], server: Gateway, *args: str) -> Run:
    """`paygraph statement --url ... ARGS` in this process (in a worker thread: the CLI
    runs its own event loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["statement", "--url", server.graphql_url, *args])
    captured = capsys.readouterr()
    with capsys.disabled():  # the summaries, for the record (seen with -s)
        for line in captured.out.splitlines():
            print(f"paygraph statement: {line}")
    return Run(code, captured.out, captured.err)


class CountingProxy:
    """An ASGI app in front of the server that forwards every request and counts the
    GraphQL POSTs: the requests the CLI really made, to hold its summary to."""

    def __init__(self, target: str, client: httpx.AsyncClient) -> None:
        self.target = target
        self.client = client
        self.posts = 0
        self.graphql_url = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "POST" and scope["path"] == "/graphql":
            self.posts += 1
        skipped = {b"host", b"content-length"}
        answer = await self.client.request(
            scope["method"],
            self.target + scope["path"],
            content=body,
            headers=[(k.decode(), v.decode()) for k, v in scope["headers"] if k not in skipped],
        )
        dropped = {"content-length", "content-encoding", "transfer-encoding"}
        headers = [(k.encode(), v.encode()) for k, v in answer.headers.items() if k not in dropped]
        headers.append((b"content-length", str(len(answer.content)).encode()))
        await send(
            {"type": "http.response.start", "status": answer.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": answer.content})


@pytest.fixture
async def proxy(server: RunningServer) -> AsyncIterator[CountingProxy]:
    async with httpx.AsyncClient(verify=TLS, timeout=120) as client:
        counting = CountingProxy(server.url, client)
        async with serving(counting, timeout=30) as url:
            counting.graphql_url = f"{url}/graphql"
            yield counting


def pages(count: int, size: int = 200) -> int:
    return max(1, -(-count // size))


def unbatched_requests(partner: PartnerSeed) -> int:
    """What the partner's statement would cost with one request per page of each merchant:
    the merchants, every merchant's pages, the detail follow-ups, the aggregate's pages."""
    per_merchant = sum(pages(len(partner.of_merchant(m))) for m in partner.merchants)
    follow_ups = sum(1 for p in partner.payments if len(p.details) > DETAILS_PAGE)
    groups = len({(p.merchant_id, p.currency) for p in partner.payments})
    return 1 + per_merchant + follow_ups + pages(groups)


def into(folder: Path) -> list[str]:
    """The month and output arguments."""
    return ["--month", str(MONTH), "--output", str(folder)]


def stem(partner: PartnerSeed) -> str:
    return f"statement-{partner.id}-{MONTH}"


# --- what the files must say ------------------------------------------------------------


def total(values: list[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def expected_measures(payments: list[Seeded], currency: str) -> dict[str, Any]:
    mine = [p for p in payments if p.currency == currency]
    amount = sum(p.amount for p in mine)
    paid = total([p.paid_amount for p in mine])
    settleable = total([p.settleable_amount for p in mine])
    return {
        "currency": currency,
        "count": len(mine),
        "amount": str(amount),
        "paidAmount": None if paid is None else str(paid),
        "settleableAmount": None if settleable is None else str(settleable),
        "averageAmount": str(rounded_quotient(amount, len(mine))),
        "formatted": {
            "amount": Money(amount, currency).format(),
            "paidAmount": "-" if paid is None else Money(paid, currency).format(),
            "settleableAmount": "-" if settleable is None else Money(settleable, currency).format(),
        },
    }


def expected_json(partner: PartnerSeed) -> dict[str, Any]:
    currencies = sorted({p.currency for p in partner.payments})
    merchants = []
    for merchant_id in partner.merchants_with_payments:
        payments = partner.of_merchant(merchant_id)
        entries = [expected_measures(payments, c) for c in sorted({p.currency for p in payments})]
        shipped = [d for p in payments for d in p.details]
        details = [
            {
                "currency": currency,
                "count": sum(1 for d in shipped if d.currency == currency),
                "amount": str(sum(d.amount for d in shipped if d.currency == currency)),
            }
            for currency in sorted({d.currency for d in shipped})
        ]
        merchants.append(
            {
                "id": merchant_id,
                "name": partner.merchants[merchant_id],
                "currencies": entries,
                "details": details,
            }
        )
    return {
        "partner": {"id": partner.id, "name": partner.name},
        "month": str(MONTH),
        "paymentCount": len(partner.payments),
        "totals": [expected_measures(partner.payments, c) for c in currencies],
        "merchants": merchants,
        "reconciled": True,
    }


def blank(value: int | None) -> str:
    return "" if value is None else str(value)


def expected_csv_row(partner: PartnerSeed, payment: Seeded) -> dict[str, str]:
    same_currency = all(d.currency == payment.currency for d in payment.details)
    return {
        "merchant_id": str(payment.merchant_id),
        "merchant": partner.merchants[payment.merchant_id],
        "payment_id": str(payment.id),
        "reference": payment.reference or "",
        "status": payment.status.upper(),
        "currency": payment.currency,
        "amount": str(payment.amount),
        "paid_amount": blank(payment.paid_amount),
        "settleable_amount": blank(payment.settleable_amount),
        "detail_count": str(len(payment.details)),
        "detail_amount": str(sum(d.amount for d in payment.details)) if same_currency else "",
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as source:
        return list(csv.DictReader(source))


def assert_csv(partner: PartnerSeed, path: Path) -> None:
    rows = read_csv(path)
    by_id = {int(row["payment_id"]): row for row in rows}
    assert len(by_id) == len(rows), "a payment appears twice"
    assert set(by_id) == {p.id for p in partner.payments}
    for payment in partner.payments:
        row = dict(by_id[payment.id])
        created = datetime.fromisoformat(row.pop("created_at"))
        assert created == payment.created_at, payment.id
        assert row == expected_csv_row(partner, payment)
    # and its amounts add up, per currency, to the seeded sums
    for currency in {p.currency for p in partner.payments}:
        mine = [row for row in rows if row["currency"] == currency]
        seeded = [p for p in partner.payments if p.currency == currency]
        assert sum(int(row["amount"]) for row in mine) == sum(p.amount for p in seeded)
        assert sum(int(row["paid_amount"] or 0) for row in mine) == sum(
            p.paid_amount or 0 for p in seeded
        )


def assert_json(partner: PartnerSeed, path: Path) -> dict[str, Any]:
    written = json.loads(path.read_text())
    generated = datetime.fromisoformat(written.pop("generatedAt"))
    assert generated.tzinfo is not None
    assert abs(datetime.now(UTC) - generated) < timedelta(minutes=10)
    assert written == expected_json(partner)
    return written


def pdf_text(path: Path) -> str:
    reader = PdfReader(path)
    assert len(reader.pages) >= 1
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_pdf(partner: PartnerSeed, path: Path) -> None:
    text = pdf_text(path)
    assert f"Statement {MONTH}: {partner.name}" in text
    assert f"Partner {partner.id}, {len(partner.payments):,} payments" in text
    for currency in sorted({p.currency for p in partner.payments}):
        expected = expected_measures(partner.payments, currency)
        for formatted in expected["formatted"].values():
            assert formatted in text, (currency, formatted)
    for merchant_id in partner.merchants_with_payments:
        assert f"Merchant {merchant_id}: {partner.merchants[merchant_id]}" in text
        for payment_currency in {p.currency for p in partner.of_merchant(merchant_id)}:
            merchant_total = expected_measures(partner.of_merchant(merchant_id), payment_currency)
            assert merchant_total["formatted"]["amount"] in text
    for merchant_id in set(partner.merchants) - set(partner.merchants_with_payments):
        assert f"Merchant {merchant_id}:" not in text


def assert_statement(partner: PartnerSeed, folder: Path) -> None:
    assert_csv(partner, folder / f"{stem(partner)}.csv")
    assert_json(partner, folder / f"{stem(partner)}.json")
    assert_pdf(partner, folder / f"{stem(partner)}.pdf")


def written(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def files_of(*partners: PartnerSeed) -> set[str]:
    return {f"{stem(p)}.{suffix}" for p in partners for suffix in ("csv", "json", "pdf")}


# --- the seeded data itself -------------------------------------------------------------


async def test_the_seeded_world_exercises_paging_rounds_and_detail_follow_ups(
    world: World,
) -> None:
    alpha = world.alpha
    assert len(alpha.merchants) > 12
    assert len(alpha.of_merchant(world.big_merchant_id)) > 200
    [many] = [p for p in alpha.payments if p.id == world.many_details_payment_id]
    assert len(many.details) > 50
    assert {p.currency for p in alpha.payments} == set(CURRENCIES)
    assert any(p.paid_amount is None for p in world.beta.payments)
    assert any(p.settleable_amount is None for p in world.beta.payments)
    assert not world.delta.payments
    assert not world.zeta.merchants
    kwd = [p for p in world.gamma.payments if p.currency == "KWD"]
    assert kwd and all(p.paid_amount is None and p.settleable_amount is None for p in kwd)
    assert 200 in Counter(p.merchant_id for p in world.beta.payments).values()
    assert len({(p.merchant_id, p.currency) for p in world.epsilon.payments}) > 200
    statement_ids = {p.id for seed in world.partners for p in seed.payments}
    assert not statement_ids & world.excluded_ids
    assert len(world.excluded_ids) >= 40


# --- one partner ------------------------------------------------------------------------


async def test_one_partners_statement_has_exactly_its_months_payments(
    proxy: CountingProxy,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given Alpha's month (14 merchants, 230 payments of one, 61 details on one payment)
    alpha = world.alpha

    # When an admin runs the statement for it, by numeric id (through a counting proxy)
    run = await statement_cli(
        capsys, proxy, "--token", world.admin_token(), "--partner", str(alpha.id), *into(tmp_path)
    )

    # Then it succeeds with one summary line, and writes exactly Alpha's three files
    assert run.code == 0, run.err
    [summary] = run.summaries()
    assert int(summary["partner"]) == alpha.id
    assert int(summary["payments"].replace(",", "")) == len(alpha.payments)
    assert int(summary["merchants"]) == ALPHA_MERCHANTS
    # the requests it reports are the ones it made (and the partner lookup before them),
    # fewer than one per page of each merchant: merchants are paged many per request
    requests = int(summary["requests"])
    assert proxy.posts == requests + 1
    assert 4 <= requests < unbatched_requests(alpha) == 18
    assert summary["files"] == str(tmp_path / f"{stem(alpha)}.*")
    assert written(tmp_path) == files_of(alpha)
    assert_statement(alpha, tmp_path)


async def test_the_statement_keeps_the_details_and_unknown_amounts_as_seeded(
    server: RunningServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, beta = world.alpha, world.beta
    for partner in (alpha, beta):
        run = await statement_cli(
            capsys,
            server,
            "--token",
            world.admin_token(),
            "--partner",
            str(partner.id),
            *into(tmp_path),
        )
        assert run.code == 0, run.err
    rows = {int(r["payment_id"]): r for r in read_csv(tmp_path / f"{stem(alpha)}.csv")}

    # every one of the 61 detail rows, though the first page holds 50
    many = rows[world.many_details_payment_id]
    assert many["detail_count"] == str(MANY_DETAILS)
    assert many["detail_amount"] == str(sum(100 + n for n in range(MANY_DETAILS)))
    # details in two currencies are counted but not summed
    mixed = rows[world.mixed_details_payment_id]
    assert (mixed["detail_count"], mixed["detail_amount"]) == ("2", "")
    # unknown paid and settleable amounts stay empty, and are left out of the sums
    beta_rows = read_csv(tmp_path / f"{stem(beta)}.csv")
    unknown = [r for r in beta_rows if r["paid_amount"] == "" and r["settleable_amount"] == ""]
    assert {r["currency"] for r in unknown} == set(CURRENCIES)
    beta_json = json.loads((tmp_path / f"{stem(beta)}.json").read_text())
    for entry in beta_json["totals"]:
        seeded = [p for p in beta.payments if p.currency == entry["currency"]]
        assert entry["paidAmount"] == str(sum(p.paid_amount or 0 for p in seeded))


async def test_a_partner_by_its_global_id_and_a_partner_with_nothing_in_the_month(
    server: RunningServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from strawberry.relay import to_base64

    delta = world.delta
    run = await statement_cli(
        capsys,
        server,
        "--token",
        world.admin_token(),
        "--partner",
        to_base64("Partner", delta.id),
        *into(tmp_path),
    )

    assert run.code == 0, run.err
    [summary] = run.summaries()
    assert (int(summary["partner"]), summary["payments"], summary["merchants"]) == (
        delta.id,
        "0",
        "1",
    )
    assert read_csv(tmp_path / f"{stem(delta)}.csv") == []
    data = json.loads((tmp_path / f"{stem(delta)}.json").read_text())
    assert (data["paymentCount"], data["totals"], data["merchants"]) == (0, [], [])
    assert f"Statement {MONTH}: {delta.name}" in pdf_text(tmp_path / f"{stem(delta)}.pdf")


async def test_the_statement_agrees_with_the_partners_portfolio_for_the_month(
    server: RunningServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two views of one partner-month: the CLI's statement and the gateway's portfolio
    alpha = world.alpha
    run = await statement_cli(
        capsys, server, "--token", world.admin_token(), "--partner", str(alpha.id), *into(tmp_path)
    )
    assert run.code == 0, run.err
    totals = json.loads((tmp_path / f"{stem(alpha)}.json").read_text())["totals"]

    answer = await query(
        server,
        world.admin_token(),
        """query($id: ID!, $from: DateTime, $to: DateTime) { partner(id: $id) {
          portfolio(fromDate: $from, toDate: $to) { count volume { currency count
            volume { amount } paidVolume { amount } averageTicket { amount } } } } }""",
        id=str(alpha.id),
        **{"from": FIRST.isoformat(), "to": LAST.isoformat()},
    )

    found = answer["partner"]["portfolio"]
    assert found["count"] == len(alpha.payments)
    assert [
        (v["currency"], v["count"], v["volume"]["amount"], v["paidVolume"]["amount"])
        for v in found["volume"]
    ] == [(t["currency"], t["count"], t["amount"], t["paidAmount"]) for t in totals]
    assert [v["averageTicket"]["amount"] for v in found["volume"]] == [
        t["averageAmount"] for t in totals
    ]


# --- every partner --------------------------------------------------------------------


async def test_all_writes_one_statement_per_partner_of_the_tenant(
    proxy: CountingProxy,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = await statement_cli(
        capsys, proxy, "--token", world.admin_token(), "--all", *into(tmp_path)
    )

    assert run.code == 0, run.err
    summaries = run.summaries()
    assert [int(s["partner"]) for s in summaries] == sorted(p.id for p in world.partners)
    requests = {int(s["partner"]): int(s["requests"]) for s in summaries}
    # what each summary reports is what it made, plus one page of partners
    assert proxy.posts == sum(requests.values()) + 1
    # at least the merchants, a round when there are merchants, and the aggregate (two
    # pages of Epsilon's 210 merchant-currency groups)
    assert requests[world.zeta.id] == 2  # no merchant: no round
    assert requests[world.epsilon.id] >= 1 + 1 + 2
    assert all(n >= 3 for p, n in requests.items() if p != world.zeta.id)
    # and merchants share requests: fewer than one per page of each merchant
    for partner in (world.alpha, world.epsilon):
        assert requests[partner.id] < unbatched_requests(partner)
    assert unbatched_requests(world.epsilon) == 1 + 70 + 2
    assert written(tmp_path) == files_of(*world.partners)
    for partner in world.partners:
        assert_statement(partner, tmp_path)


async def test_a_partner_users_all_is_its_own_partner_only(
    server: RunningServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    beta = world.beta
    run = await statement_cli(
        capsys, server, "--token", world.partner_token(beta), "--all", *into(tmp_path)
    )

    assert run.code == 0, run.err
    assert [int(s["partner"]) for s in run.summaries()] == [beta.id]
    assert written(tmp_path) == files_of(beta)
    assert_statement(beta, tmp_path)


async def test_a_partner_user_cannot_ask_for_another_partner(
    server: RunningServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = await statement_cli(
        capsys,
        server,
        "--token",
        world.partner_token(world.beta),
        "--partner",
        str(world.alpha.id),
        *into(tmp_path),
    )

    assert run.code == 1
    assert "NOT_FOUND" in run.err
    assert written(tmp_path) == set()


async def test_a_managers_api_token_gets_its_reseller_tree(
    server: RunningServer, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the manager of Alpha (a reseller with Gamma below it), as `paygraph manager
    # create` makes one
    run = await statement_cli(
        capsys, server, "--api-token", world.manager_token, "--all", *into(tmp_path)
    )

    assert run.code == 0, run.err
    assert [int(s["partner"]) for s in run.summaries()] == [world.alpha.id, world.gamma.id]
    assert written(tmp_path) == files_of(world.alpha, world.gamma)
    assert_statement(world.alpha, tmp_path)
    assert_statement(world.gamma, tmp_path)


async def test_the_token_may_come_from_the_environment(
    server: RunningServer,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_API_TOKEN", world.manager_token)
    run = await statement_cli(capsys, server, "--partner", str(world.gamma.id), *into(tmp_path))

    assert run.code == 0, run.err
    assert written(tmp_path) == files_of(world.gamma)


# --- failures -----------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["unknown", "other tenant's"])
async def test_a_partner_that_is_not_there_exits_1_and_writes_nothing(
    server: RunningServer,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    which: str,
) -> None:
    partner = "987654321" if which == "unknown" else str(world.other_tenant_partner_id)
    run = await statement_cli(
        capsys,
        server,
        "--token",
        world.admin_token(),
        "--partner",
        partner,
        *into(tmp_path / "out"),
    )

    assert run.code == 1
    assert run.out == ""
    # (the gateway itself refuses the lookup: partner(id) answers PARTNER_NOT_FOUND)
    assert "PARTNER_NOT_FOUND" in run.err
    assert not (tmp_path / "out").exists()


async def test_no_credential_exits_2(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = await statement_cli(
        capsys, server, "--all", "--month", str(MONTH), "--output", str(tmp_path / "out")
    )

    assert run.code == 2
    assert "give --token or --api-token" in run.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("month", ["2024-13", "2024-00", "2024-2", "24-02", "February", ""])
async def test_a_bad_month_exits_2(
    server: RunningServer,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    month: str,
) -> None:
    run = await statement_cli(
        capsys,
        server,
        "--token",
        world.admin_token(),
        "--all",
        "--month",
        month,
        "--output",
        str(tmp_path / "out"),
    )

    assert run.code == 2
    assert "`month` must be YYYY-MM" in run.err
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["statement", "--url", "http://127.0.0.1:9/graphql", "--token", "t", "--month", "2024-02"],
        [
            "statement",
            "--url",
            "http://x",
            "--token",
            "t",
            "--all",
            "--partner",
            "1",
            "--month",
            "x",
        ],
        [
            "statement",
            "--url",
            "http://x",
            "--token",
            "t",
            "--api-token",
            "a",
            "--all",
            "--month",
            "x",
        ],
    ):
        with pytest.raises(SystemExit) as exited:
            main(args)
        assert exited.value.code == 2
        # One line per mistake, naming the command and where its usage is.
        error = capsys.readouterr().err
        assert error.startswith("paygraph statement: ") and error.count("\n") == 1, error
        assert "(see paygraph statement --help)" in error


@pytest.mark.parametrize("credential", ["--token", "--api-token"])
async def test_a_bad_credential_exits_1(
    server: RunningServer,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    credential: str,
) -> None:
    bad = mint_token(
        Settings(jwt_secret="another-secret-that-is-long-enough-0123456789"),
        tenant_id=world.tenant_id,
        user_id=1,
        permissions=(VIEW_PAYMENTS,),
    )
    run = await statement_cli(
        capsys,
        server,
        credential,
        bad if credential == "--token" else "pg_not-a-real-token",
        "--all",
        *into(tmp_path / "out"),
    )

    assert run.code == 1
    assert "paygraph statement: UNAUTHENTICATED: Invalid" in run.err
    # (which the gateway sends with a 401)
    header = (
        {"Authorization": f"Bearer {bad}"} if credential == "--token" else {"X-Api-Token": "pg_x"}
    )
    answer = httpx.post(
        server.graphql_url,
        json={"query": "{ viewer { tenant { id } } }"},
        headers=header,
        verify=TLS,
    )
    assert answer.status_code == 401
    assert not (tmp_path / "out").exists()


async def test_an_unreachable_gateway_exits_1(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.e2e.server import free_port

    capsys.readouterr()
    url = f"http://127.0.0.1:{free_port()}/graphql"
    code = await asyncio.to_thread(
        main,
        ["statement", "--url", url, "--token", world.admin_token(), "--all", "--month", "2024-02"],
    )

    assert code == 1
    assert "the gateway failed" in capsys.readouterr().err


# --- a statement that does not add up ---------------------------------------------------


class DroppingSource(StatementSource):
    """A client with a fault: it loses one line of one merchant (or, `nudge`, reads one
    amount a minor unit high)."""

    def __init__(self, url: str, token: str, merchant_id: int, *, nudge: bool = False) -> None:
        super().__init__(url, token=token)
        self.merchant_id = merchant_id
        self.nudge = nudge
        self.faulted: StatementLine | None = None

    async def lines(
        self, merchants: Sequence[MerchantRef], month: Month
    ) -> AsyncIterator[list[StatementLine]]:
        async for lines in super().lines(merchants, month):
            kept = []
            for line in lines:
                if self.faulted is None and line.merchant_id == self.merchant_id:
                    self.faulted = line
                    if self.nudge:
                        kept.append(replace(line, amount=line.amount + 1))
                    continue
                kept.append(line)
            yield kept


@pytest.mark.parametrize("nudge", [False, True], ids=["a line lost", "a minor unit off"])
async def test_a_statement_that_differs_from_the_gateway_fails_loudly_and_writes_nothing(
    server: RunningServer, world: World, tmp_path: Path, nudge: bool
) -> None:
    # Given a client that loses one of Beta's second merchant's lines (or misreads it)
    beta = world.beta
    merchant = list(beta.merchants)[1]
    source = DroppingSource(server.graphql_url, world.admin_token(), merchant, nudge=nudge)

    # When it generates Beta's statement
    async with source:
        with pytest.raises(StatementMismatch) as failed:
            await generate_statements(source, MONTH, tmp_path, partner_id=str(beta.id))

    # Then the mismatch names the merchant, the currency and the measures that differ
    line = source.faulted
    assert line is not None
    seeded = [p for p in beta.of_merchant(merchant) if p.currency == line.currency]
    message = failed.value.message
    assert failed.value.code == "STATEMENT_MISMATCH"
    assert f"Partner {beta.id}, {MONTH}" in message
    amount = sum(p.amount for p in seeded)
    if nudge:
        assert (
            f"merchant {merchant} {line.currency} amount: statement {amount + 1}, "
            f"gateway {amount}" in message
        )
        assert "count" not in message
    else:
        assert (
            f"merchant {merchant} {line.currency} count: statement {len(seeded) - 1}, "
            f"gateway {len(seeded)}" in message
        )
        assert (
            f"merchant {merchant} {line.currency} amount: statement "
            f"{amount - line.amount}, gateway {amount}" in message
        )
    # and nothing is written for the partner
    assert written(tmp_path) == set()


async def test_all_stops_at_the_first_partner_that_does_not_reconcile(
    server: RunningServer, world: World, tmp_path: Path
) -> None:
    # Given a client losing a line of Beta's (the second partner in id order)
    beta = world.beta
    source = DroppingSource(server.graphql_url, world.admin_token(), next(iter(beta.merchants)))

    async with source:
        with pytest.raises(StatementMismatch, match=f"Partner {beta.id},"):
            await generate_statements(source, MONTH, tmp_path)

    # Alpha's statement (before it) was written; Beta's and those after it were not
    assert written(tmp_path) == files_of(world.alpha)
