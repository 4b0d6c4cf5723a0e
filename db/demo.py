"""Deterministic demo data for the whole domain, loaded in bulk.

The demo has to scale from a handful of payments to a million, so rows are generated in
batches and inserted with executemany (COPY on PostgreSQL for the big tables) instead of
going through the ORM. Ids are assigned here, 1..n per table, because the target database
is empty: children can then reference their parents without reading anything back.
Everything comes from one seeded `random.Random` and a fixed base timestamp, so the same
seed always produces the same rows.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tqdm import tqdm

from db import models as m
from db.demo_documents import CONTENT_TYPE, DemoFile, demo_files, store_demo_files
from db.demo_size import MAX_PAYMENTS
from db.engine import analyze
from domain.storage import DocumentStorage

Row = dict[str, Any]
Actor = tuple[int | None, str]  # (user id, label) of whoever did something

_T = m.Base.metadata.tables  # the models' __table__ objects, typed as Table
TENANT, COMPANY, PARTNER, USER = _T["tenant"], _T["company"], _T["partner"], _T["user_account"]
MERCHANT, TERMINAL, ACCOUNT = _T["merchant"], _T["terminal"], _T["account"]
ADDRESS, METHOD, FX = _T["address"], _T["payment_method"], _T["fx_rate"]
INVOICE, PAYMENT, DETAIL = _T["invoice"], _T["payment"], _T["payment_detail"]
DOCUMENT, EVENT, LEDGER = _T["payment_document"], _T["payment_event"], _T["accounting_transaction"]
# Parents before children, so foreign keys hold at every insert.
PARTIES = (TENANT, COMPANY, PARTNER, MERCHANT, TERMINAL, USER, ACCOUNT, ADDRESS, METHOD, FX)
BULK = (INVOICE, PAYMENT, DETAIL, DOCUMENT, EVENT, LEDGER)
# Every row of a table gets every column (executemany and COPY need one shape): None, or
# the model's scalar default, unless given.
TEMPLATES: dict[str, Row] = {
    t.name: {
        c.name: getattr(c.default, "arg", None) if c.default and c.default.is_scalar else None
        for c in t.c
    }
    for t in PARTIES + BULK
}

BASE = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
YEAR = int((END - BASE).total_seconds()) + 1
BATCH = 2_000  # payments generated (with their children) before a flush
CHUNK = 5_000  # rows per executemany / COPY

TENANTS = (("acme", "Acme Corporation"), ("globex", "Globex Industries"), ("initech", "Initech"))
CURRENCIES = ("USD", "EUR", "MXN", "JPY", "KWD")  # JPY has no minor unit, KWD three digits
CURRENCY_WEIGHTS = (70, 82, 92, 97, 100)  # cumulative, like every *_WEIGHTS here
AMOUNT_RANGE = {"USD": (500, 500_000), "EUR": (500, 500_000), "MXN": (10_000, 10_000_000)}
AMOUNT_RANGE |= {"JPY": (500, 750_000), "KWD": (1_500, 1_500_000)}  # minor units
USD_PER_UNIT = {"EUR": 1_085_000, "MXN": 58_500, "JPY": 6_700, "KWD": 3_250_000}  # 10**-6
WORDS = ("Blue", "North", "Summit", "Atlas", "Cedar", "Nova", "Harbor", "Vertex", "Silver")
NOUNS = ("Payments", "Systems", "Commerce", "Networks", "Solutions", "Labs", "Retail")
SHOPS = ("Coffee", "Books", "Hardware", "Bakery", "Pharmacy", "Florist", "Garage", "Deli")
FIRST = ("Ana", "Ben", "Carla", "Diego", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jon")
LAST = ("Lopez", "Smith", "Tanaka", "Müller", "Haddad", "Novak", "Reyes", "Okafor")
CITIES: dict[str, tuple[str, ...]] = {
    "US": ("Austin", "Denver"),
    "MX": ("Monterrey", "Guadalajara"),
}
CITIES |= {"DE": ("Berlin", "Hamburg"), "JP": ("Osaka", "Tokyo"), "KW": ("Kuwait City",)}
METHODS = {"Check": "check", "Credit Card": "card", "Bank Transfer": "bank_transfer"}
METHODS |= {"Cash": "cash", "Wallet": "wallet"}
CARRIERS = {"DHL": "JD01", "FedEx": "7489", "UPS": "1Z", "Estafeta": "8055"}  # tracking prefix
DOC_TYPES = ("invoice", "tax_certificate", "bank_statement")

KINDS = ("commission", "acquiring", "reseller", "invoice")
KIND_WEIGHTS = (30, 70, 85, 100)


def _paths(*paths: str) -> dict[str, tuple[str, ...]]:
    """Each final status with the path of statuses reaching it (the audit trail)."""
    return {path.split()[-1]: tuple(path.split()) for path in paths}


REVIEWED = "generated payment_requested under_review"
COMMISSION_PATHS = _paths(
    "generated",
    "generated payment_requested",
    REVIEWED,
    f"{REVIEWED} documents_rejected",
    f"{REVIEWED} payment_rejected",
    f"{REVIEWED} approved_for_payment",
    f"{REVIEWED} approved_for_payment paid",
    f"{REVIEWED} approved_for_payment manually_paid",
)
COMMISSION_WEIGHTS = (10, 25, 37, 45, 50, 62, 92, 100)
ACQUIRING_PATHS = _paths(
    "created",
    "created processing",
    "created processing completed",
    "created invalid",
    "created processing underpaid",
    "created processing overpaid",
    "created processing completed refunded",
)
ACQUIRING_WEIGHTS = (8, 16, 76, 84, 92, 96, 100)
RESELLER_STATUSES = ("waiting_for_payment", "expired", "completed", "cancelled")
RESELLER_WEIGHTS = (20, 40, 90, 100)
ACTIONS = {  # the audit action that moves a payment into each status
    "generated": "create",
    "created": "create",
    "waiting_for_payment": "create",
    "recorded": "record",
    "payment_requested": "request_payment",
    "under_review": "start_review",
    "documents_rejected": "reject_documents",
    "payment_rejected": "reject_payment",
    "approved_for_payment": "approve_for_payment",
    "paid": "mark_paid",
    "manually_paid": "mark_manually_paid",
    "processing": "process",
    "completed": "complete",
    "invalid": "invalidate",
    "underpaid": "flag_underpaid",
    "overpaid": "flag_overpaid",
    "refunded": "refund",
    "expired": "expire",
    "cancelled": "cancel",
}
# A commission's documents are still pending before review, the first one is rejected in
# documents_rejected, and all are approved once the review passed.
DOC_STATUS = dict.fromkeys(REVIEWED.split(), "pending") | {"documents_rejected": "rejected"}


@dataclass(frozen=True)
class Scale:
    """How big the demo's world is around its payments.

    The default keeps the parties few and scaled mildly with the payments, with detail
    rows and documents on commission payouts only (what the features need). `BENCH` is the
    benchmark's dataset (docs/benchmarks.md): three tenants, a fixed number of partners and
    merchants, detail rows and documents on every payment, and partners whose business
    follows 1/rank, so a portfolio page of 200 has a partner big enough to fill it.
    """

    shares: tuple[int, ...] = (2, 1)  # payments per tenant, in TENANTS order
    partners: int | None = None  # in all tenants; None: 7 per 1,500 payments, 14..280
    merchants: int | None = None  # in all tenants; None: 1 per 10 payments, <= 5,000
    every_payment_has_children: bool = False
    skewed: bool = False


DEMO = Scale()
BENCH = Scale((3, 2, 1), 2_000, 20_000, every_payment_has_children=True, skewed=True)
SCALES = {"demo": DEMO, "bench": BENCH}


@dataclass(frozen=True)
class DemoSummary:
    tenants: dict[str, int]  # slug -> tenant id
    admins: dict[str, int]  # tenant slug -> id of that tenant's admin user
    counts: dict[str, int]  # table name -> rows inserted


@dataclass
class _Ctx:
    """The random source, the id counter per table and the rows waiting to be inserted."""

    rng: random.Random
    ids: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    rows: defaultdict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: Table, **values: Any) -> int:
        self.ids[table.name] += 1
        self.rows[table.name].append(TEMPLATES[table.name] | values | {"id": self.ids[table.name]})
        return self.ids[table.name]

    def pick(self, values: tuple[str, ...], cum_weights: tuple[int, ...]) -> str:
        return self.rng.choices(values, cum_weights=cum_weights)[0]


@dataclass
class _World:
    """One tenant's parties, by id, for its payments to reference: keeping them per tenant
    is what guarantees no row points into another tenant."""

    ctx: _Ctx
    tenant_id: int
    slug: str
    scale: Scale
    admin: tuple[int, str] = (0, "")
    partners: list[int] = field(default_factory=list)
    partner_weights: list[float] = field(default_factory=list)  # cumulative, when skewed
    resellers: list[int] = field(default_factory=list)
    partner_users: dict[int, list[Actor]] = field(default_factory=dict)
    managers: list[Actor] = field(default_factory=list)
    merchants: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    terminals: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    accounts: dict[int, list[int]] = field(default_factory=dict)
    companies: list[int] = field(default_factory=list)
    addresses: list[int] = field(default_factory=list)
    methods: list[int] = field(default_factory=list)
    seq: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: dict[str, DemoFile] = field(default_factory=dict)  # by document type

    def add(self, table: Table, **values: Any) -> int:
        return self.ctx.add(table, tenant_id=self.tenant_id, **values)

    def party(self, table: Table, **values: Any) -> int:
        """Parties exist before the payments of 2025 start."""
        ago = timedelta(days=self.ctx.rng.randint(30, 700), seconds=self.ctx.rng.randrange(86_400))
        return self.add(table, created_at=BASE - ago, **values)

    def partner(self) -> int:
        """A partner for a payment: any, or one by 1/rank when the scale is skewed."""
        if self.partner_weights:
            return self.ctx.rng.choices(self.partners, cum_weights=self.partner_weights)[0]
        return self.ctx.rng.choice(self.partners)

    def next(self, name: str) -> int:
        """Per-tenant numbering (invoice numbers, document numbers, orders)."""
        self.seq[name] += 1
        return self.seq[name]


def _clamp(n: int, low: int, high: int) -> int:
    return max(low, min(n, high))


def _name(rng: random.Random, *words: tuple[str, ...]) -> str:
    return " ".join(rng.choice(choices) for choices in words)


def _user(w: _World, email: str, role: str, partner: int | None = None) -> Actor:
    name = _name(w.ctx.rng, FIRST, LAST)
    locale = w.ctx.rng.choice(("en", "es"))
    uid = w.party(USER, name=name, email=email, role=role, partner_id=partner, locale=locale)
    return uid, name


def _partners(w: _World, count: int) -> None:
    """`count` partners in three-level trees (root resellers -> child resellers ->
    grandchildren of any kind), so descendant and ancestor queries have depth to walk; each
    partner gets users. A skewed scale ranks them at random and weighs each by 1/rank."""
    rng = w.ctx.rng

    def make(parent: int | None, kind: str) -> int:
        pid = w.party(
            PARTNER,
            parent_id=parent,
            name=f"{_name(rng, WORDS, NOUNS)} {kind.upper()}",
            kind=kind,
            external_ref=f"prt_{rng.getrandbits(48):012x}",
            payout_account=f"po_{rng.getrandbits(40):010x}" if rng.random() < 0.6 else None,
        )
        w.partners.append(pid)
        if kind == "reseller":
            w.resellers.append(pid)
        users = range(rng.randint(1, 2))
        emails = [f"partner{w.next('user')}@{w.slug}.example" for _ in users]
        w.partner_users[pid] = [_user(w, email, "partner", pid) for email in emails]
        return pid

    while len(w.partners) < count:
        root = make(None, "reseller")
        for _ in range(2):
            if len(w.partners) < count:
                child = make(root, "reseller")
            for _ in range(2):
                if len(w.partners) < count:
                    make(child, rng.choice(("isv", "var", "payfac", "reseller")))
    if w.scale.skewed:
        ranks = list(range(1, count + 1))
        rng.shuffle(ranks)
        w.partner_weights = list(accumulate(1 / rank for rank in ranks))


def _merchants(w: _World, count: int) -> None:
    """Merchants round-robin over the partners, so every partner has some, each with one
    to three terminals."""
    rng = w.ctx.rng
    for i in range(count):
        partner = w.partners[i % len(w.partners)]
        name = f"{_name(rng, WORDS, SHOPS)} #{i + 1}"
        ref = f"mrc_{rng.getrandbits(48):012x}"
        mid = w.party(MERCHANT, partner_id=partner, name=name, external_ref=ref)
        w.merchants[partner].append(mid)
        for k in range(rng.randint(1, 3)):
            serial = f"SN{w.tenant_id:02d}{w.ctx.ids[TERMINAL.name] + 1:09d}"  # unique by id
            terminal = w.party(TERMINAL, merchant_id=mid, serial=serial, label=f"Till {k + 1}")
            w.terminals[mid].append(terminal)


def _customers(w: _World, n: int) -> None:
    """Companies with two addresses each, payment methods and resellers' accounts."""
    rng = w.ctx.rng
    for _ in range(_clamp(n // 50, 3, 1_000)):
        name = f"{_name(rng, WORDS, NOUNS)} {rng.choice(('Inc', 'SA de CV', 'GmbH'))}"
        cid = w.party(COMPANY, name=name, tax_id=f"TAX{rng.randrange(10**8, 10**9)}")
        w.companies.append(cid)
        for label in ("HQ", "Billing"):
            country = rng.choice(tuple(CITIES))
            address = w.party(
                ADDRESS,
                company_id=cid,
                name=f"{name} {label}",
                line1=f"{rng.randint(1, 999)} {rng.choice(WORDS)} Street",
                city=rng.choice(CITIES[country]),
                postal_code=f"{rng.randrange(10**5):05d}",
                country_code=country,
            )
            w.addresses.append(address)
    for name, method_type in METHODS.items():
        w.methods.append(w.party(METHOD, name=name, method_type=method_type))
    for reseller in w.resellers:
        w.accounts[reseller] = [
            w.party(ACCOUNT, reseller_id=reseller, name=f"{_name(rng, FIRST, LAST)} account")
            for _ in range(rng.randint(2, 4))
        ]


def _fx_rates(w: _World) -> None:
    """Monthly rates to USD, exact as rate_value / 10**6."""
    for code, rate in USD_PER_UNIT.items():
        for month in range(1, 13):
            value = rate * w.ctx.rng.randint(980, 1_020) // 1_000
            w.add(
                FX,
                base_currency=code,
                quote_currency="USD",
                rate_value=value,
                rate_scale=6,
                effective_on=date(2025, month, 1),
                created_at=BASE,
            )


def _world(ctx: _Ctx, tenant_id: int, slug: str, n: int, scale: Scale, index: int) -> _World:
    """Every party of one tenant: as many as the scale gives each tenant, or scaled mildly
    with its n payments."""
    w = _World(ctx, tenant_id, slug, scale)
    admin = w.party(USER, name=f"{slug.title()} Admin", email=f"admin@{slug}.example", role="admin")
    w.admin = (admin, f"{slug.title()} Admin")
    tenants = len(scale.shares)
    _partners(w, _share(scale.partners, tenants, index) or 7 * _clamp(n // 1_500, 2, 40))
    w.managers = [_user(w, f"manager{k}@{slug}.example", "manager") for k in range(1, 4)]
    merchants = _share(scale.merchants, tenants, index)
    _merchants(w, merchants or _clamp(n // 10, len(w.partners), 5_000))
    _customers(w, n)
    _fx_rates(w)
    return w


def _share(total: int | None, tenants: int, index: int) -> int | None:
    """Tenant `index`'s even share of a party count (the first ones take the remainder)."""
    return None if total is None else total // tenants + (index < total % tenants)


def _money(ctx: _Ctx) -> tuple[str, int]:
    currency = ctx.pick(CURRENCIES, CURRENCY_WEIGHTS)
    return currency, ctx.rng.randint(*AMOUNT_RANGE[currency])


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`parts` positive integers summing exactly to `total`."""
    cuts = sorted(rng.sample(range(1, total), _clamp(parts, 1, total) - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _at_step(path: tuple[str, ...], k: int, start: datetime, end: datetime) -> datetime:
    """When step k of `path` happened: steps are spaced evenly from creation to end."""
    return start + (end - start) * k // max(1, len(path) - 1)


def _events(
    w: _World,
    pid: int,
    path: tuple[str, ...],
    start: datetime,
    end: datetime,
    actor: Callable[[str], Actor],
) -> None:
    """The audit trail: one row per step of `path`."""
    for k, status in enumerate(path):
        actor_id, label = actor(status)
        w.add(
            EVENT,
            payment_id=pid,
            actor_id=actor_id,
            actor_label=label,
            action=ACTIONS[status],
            from_status=path[k - 1] if k else None,
            to_status=status,
            created_at=_at_step(path, k, start, end),
        )


def _ledger(w: _World, payment: Row, accounts: tuple[str, str], description: str) -> None:
    """A balanced posting for a payment: a debit and a credit line of its amount under one
    posting id, dated when the money moved."""
    posting = str(uuid.UUID(int=w.ctx.rng.getrandbits(128), version=4))
    for direction, account in zip(("debit", "credit"), accounts, strict=True):
        w.add(
            LEDGER,
            payment_id=payment["id"],
            invoice_id=payment["invoice_id"],
            posting_id=posting,
            account_code=account,
            direction=direction,
            amount=payment["amount"],
            currency=payment["currency"],
            description=description,
            created_at=payment["paid_at"] or payment["created_at"],
        )


def _payment(w: _World, **values: Any) -> Row:
    w.add(PAYMENT, **values)
    return w.ctx.rows[PAYMENT.name][-1]


def _commission(w: _World, at: datetime) -> None:
    """A partner's monthly payout with shipment details, review documents and history;
    a paid one is booked in the ledger."""
    rng = w.ctx.rng
    status = w.ctx.pick(tuple(COMMISSION_PATHS), COMMISSION_WEIGHTS)
    path = COMMISSION_PATHS[status]
    partner = w.partner()
    user = rng.choice(w.partner_users[partner])
    currency, amount = _money(w.ctx)
    updated = at if len(path) == 1 else at + timedelta(hours=rng.randint(2, 400))
    period_end = date(at.year, at.month, 1) - timedelta(days=1)  # the previous month
    paid = status in ("paid", "manually_paid")
    approved = "approved_for_payment" in path
    payment = _payment(
        w,
        kind="commission",
        status=status,
        amount=amount,
        currency=currency,
        partner_id=partner,
        user_id=user[0],
        company_id=rng.choice(w.companies),
        period_start=period_end.replace(day=1),
        period_end=period_end,
        cutoff_date=period_end + timedelta(days=5),
        reference=f"COM-{period_end:%Y%m}-{rng.getrandbits(32):08X}",
        approved_for_payment_at=_at_step(path, 3, at, updated) if approved else None,
        paid_at=updated if paid else None,
        payment_date=updated.date() if paid else None,
        created_at=at,
        updated_at=updated,
    )
    pid = payment["id"]
    _shipments(w, payment, rng.randint(1, 5 if w.scale.every_payment_has_children else 4))
    _documents(w, payment, DOC_STATUS.get(status, "approved"), _at_step(path, 3, at, updated))
    actors = {"generated": (None, "system"), "payment_requested": user}
    _events(w, pid, path, at, updated, lambda s: actors.get(s, w.admin))
    if paid:
        description = f"Commission {period_end:%Y-%m} to partner {partner}"
        _ledger(w, payment, ("commission_expense", "partner_payable"), description)


def _shipments(w: _World, payment: Row, parts: int) -> None:
    """Shipment detail rows (commission payouts) splitting the payment's amount."""
    rng = w.ctx.rng
    for part in _split(rng, payment["amount"], parts):
        carrier = rng.choice(tuple(CARRIERS))
        w.add(
            DETAIL,
            payment_id=payment["id"],
            partner_id=payment["partner_id"],
            carrier=carrier,
            tracking_number=f"{CARRIERS[carrier]}{rng.getrandbits(40):013d}",
            shipment_reference=f"SHP-{rng.getrandbits(24):08d}",
            amount=part,
            currency=payment["currency"],
            created_at=payment["created_at"],
        )


def _documents(w: _World, payment: Row, status: str, reviewed_at: datetime) -> None:
    """One to three review documents of distinct types; in documents_rejected only the
    first one is rejected."""
    rng = w.ctx.rng
    pid = payment["id"]
    for k, doc_type in enumerate(rng.sample(DOC_TYPES, rng.randint(1, 3))):
        doc_status = "approved" if k and status == "rejected" else status
        reviewed = doc_status != "pending"
        required = rng.random() < 0.85
        # Two draws the rows made when their files were made up (a size, a digest): kept,
        # so every later row of a seed stays what it was.
        rng.randint(20_000, 2_000_000), rng.getrandbits(256)
        file = w.files[doc_type]  # the tenant's stored file of this type
        w.add(
            DOCUMENT,
            payment_id=pid,
            document_type=doc_type,
            status=doc_status,
            required=required,
            rejection_reason="Illegible scan" if doc_status == "rejected" else None,
            reviewed_by_id=w.admin[0] if reviewed else None,
            reviewed_at=reviewed_at if reviewed else None,
            file_name=f"{doc_type}_{pid}.pdf",
            content_type=CONTENT_TYPE,
            size_bytes=file.size_bytes,
            sha256=file.sha256,
            storage_key=file.storage_key,
            created_at=payment["created_at"],
            updated_at=payment["updated_at"],
        )


def _children(w: _World, payment: Row) -> None:
    """On a scale where every payment has them: shipments and approved documents for a
    payment of a kind that has none of its own."""
    if w.scale.every_payment_has_children:
        _shipments(w, payment, w.ctx.rng.randint(1, 5))
        _documents(w, payment, "approved", payment["updated_at"])


def _acquiring_amounts(rng: random.Random, status: str, amount: int) -> tuple[int, int]:
    """(paid, settleable) consistent with the status; settleable never exceeds paid."""
    net = amount - amount * 29 // 1_000  # after a 2.9% fee
    if status == "underpaid":
        return amount * rng.randint(30, 95) // 100, 0
    if status == "overpaid":
        return amount + amount * rng.randint(1, 20) // 100, net
    return {"created": (0, 0), "invalid": (0, 0), "completed": (amount, net)}.get(
        status, (amount, 0)
    )


def _acquiring(w: _World, at: datetime) -> None:
    """A card payment at a merchant's terminal, under the partner that boarded it."""
    rng = w.ctx.rng
    status = w.ctx.pick(tuple(ACQUIRING_PATHS), ACQUIRING_WEIGHTS)
    partner = w.partner()
    merchant = rng.choice(w.merchants[partner])
    currency, amount = _money(w.ctx)
    paid, settleable = _acquiring_amounts(rng, status, amount)
    order = f"ORDER-{w.next('order'):06d}"
    updated = at + timedelta(seconds=rng.randint(5, 7_200))
    payment = _payment(
        w,
        kind="acquiring",
        status=status,
        amount=amount,
        currency=currency,
        paid_amount=paid,
        settleable_amount=settleable,
        partner_id=partner,
        merchant_id=merchant,
        terminal_id=rng.choice(w.terminals[merchant]),
        tracking_id=f"trk_{rng.getrandbits(64):016x}",
        reference=order,
        description=f"Point-of-sale {order}",
        requester_ip=f"203.0.113.{rng.randint(1, 254)}",
        paid_at=updated if paid else None,
        created_at=at,
        updated_at=updated,
    )
    _events(w, payment["id"], ACQUIRING_PATHS[status], at, updated, lambda s: (None, "gateway"))
    _children(w, payment)


def _reseller(w: _World, at: datetime) -> None:
    """A reseller customer's payment order: an expired one was open for three days; one
    still waiting has no expiration date (the reseller completion API's own example has
    none), so the server's expiry job leaves the demo as generated; a completed one was taken by a
    manager."""
    rng = w.ctx.rng
    status = w.ctx.pick(RESELLER_STATUSES, RESELLER_WEIGHTS)
    reseller = rng.choice(w.resellers)
    currency, amount = _money(w.ctx)
    expiration = at + timedelta(days=3)
    closed = at + timedelta(minutes=rng.randint(10, 4_000))
    done = status == "completed"
    manager = rng.choice(w.managers)
    updated = {"waiting_for_payment": at, "expired": expiration}.get(status, closed)
    payment = _payment(
        w,
        kind="reseller",
        status=status,
        amount=amount,
        currency=currency,
        paid_amount=amount if done else None,
        partner_id=reseller,
        account_id=rng.choice(w.accounts[reseller]),
        document_number=str(2_005_000 + w.next("document")),
        expiration_date=None if status == "waiting_for_payment" else expiration,
        manager_id=manager[0] if done else None,
        payment_method_id=rng.choice(w.methods) if done else None,
        closed_at=closed if status in ("completed", "cancelled") else None,
        created_at=at,
        updated_at=updated,
    )
    path = ("waiting_for_payment",) + (() if status == "waiting_for_payment" else (status,))
    _events(
        w,
        payment["id"],
        path,
        at,
        updated,
        lambda s: manager if s == "completed" else (None, "system"),
    )
    _children(w, payment)


def _invoice(w: _World, at: datetime, room: int) -> int:
    """An invoice and up to `room` payments against it, whose amounts sum exactly to its
    paid_amount; each payment is booked in the ledger. Returns the payments added."""
    rng = w.ctx.rng
    status = w.ctx.pick(("open", "partially_paid", "paid"), (20, 55, 100))
    currency, total = _money(w.ctx)
    paid = {"open": 0, "paid": total}.get(status, total * rng.randint(20, 80) // 100)
    amounts = _split(rng, paid, min(room, rng.randint(1, 3))) if paid else []
    whens = [min(at + timedelta(hours=6 * j), END) for j in range(len(amounts))]
    issued = max(BASE, at - timedelta(days=rng.randint(1, 20)))
    sender, receiver = rng.sample(w.addresses, 2)
    number = f"INV-2025-{w.next('invoice'):07d}"
    iid = w.add(
        INVOICE,
        number=number,
        company_id=rng.choice(w.companies),
        sender_id=sender,
        receiver_id=receiver,
        total_amount=total,
        paid_amount=paid,
        currency=currency,
        status=status,
        issued_on=issued.date(),
        due_on=issued.date() + timedelta(days=30),
        created_at=issued,
        updated_at=whens[-1] if whens else issued,
    )
    for amount, when in zip(amounts, whens, strict=True):
        authorized = rng.random() < 0.6
        payment = _payment(
            w,
            kind="invoice",
            status="recorded",
            amount=amount,
            currency=currency,
            invoice_id=iid,
            sender_id=sender,
            receiver_id=receiver,
            payment_method_id=rng.choice(w.methods),
            payment_date=when.date(),
            authorized=authorized,
            authorized_by_id=w.admin[0] if authorized else None,
            authorized_at=when + timedelta(hours=2) if authorized else None,
            reference=number,
            created_at=when,
            updated_at=when + timedelta(hours=2) if authorized else when,
        )
        _events(w, payment["id"], ("recorded",), when, when, lambda s: w.admin)
        _ledger(w, payment, ("cash", "receivables"), f"Payment of invoice {number}")
        _children(w, payment)
    return len(amounts)


def _payments(w: _World, n: int) -> Iterator[int]:
    """Exactly n payments spread over 2025 in id order; yields how many each step added,
    so the caller can flush in batches and memory stays bounded."""
    makers = {"commission": _commission, "acquiring": _acquiring, "reseller": _reseller}
    slot = max(1, YEAR // max(n, 1))
    done = 0
    while done < n:
        at = BASE + timedelta(seconds=done * YEAR // n + w.ctx.rng.randrange(slot))
        kind = w.ctx.pick(KINDS, KIND_WEIGHTS)
        if kind == "invoice":
            added = _invoice(w, at, n - done)
        else:
            makers[kind](w, at)
            added = 1
        done += added
        yield added


async def _flush(conn: AsyncConnection, ctx: _Ctx) -> None:
    """Insert every pending row, parents first, in chunks; COPY the big tables on
    PostgreSQL (several times faster than executemany). The parties go first through
    SQLAlchemy, which opens the transaction that the raw COPYs then join."""
    raw = None
    if conn.dialect.name == "postgresql":
        raw = (await conn.get_raw_connection()).driver_connection
    for table in PARTIES + BULK:
        rows = ctx.rows.pop(table.name, [])
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if raw is not None and table in BULK:
                columns = list(TEMPLATES[table.name])
                records = [tuple(row[c] for c in columns) for row in chunk]
                await raw.copy_records_to_table(table.name, records=records, columns=columns)
            else:
                await conn.execute(table.insert(), chunk)


class DemoNeedsEmptyDatabase(RuntimeError):
    """The demo was asked to load into a database that has tenants already."""


async def _has_tenants(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(TENANT.c.id).limit(1))).first() is not None


async def is_empty(engine: AsyncEngine) -> bool:
    """True when no tenant exists yet, i.e. the demo may be loaded."""
    async with engine.connect() as conn:
        return not await _has_tenants(conn)


async def load_demo(
    engine: AsyncEngine,
    *,
    payments: int = 2000,
    seed: int = 7,
    scale: Scale = DEMO,
    progress: bool = False,
    storage: DocumentStorage | None = None,
) -> DemoSummary:
    """Load the scale's tenants (by default acme with 2/3 of the payments and globex)
    into an empty, migrated database, in one transaction. The documents' files (a few
    per tenant, db.demo_documents) go to `storage` first; without one, the rows still
    name them, but only a server whose storage holds them can serve them."""
    if not 0 <= payments <= MAX_PAYMENTS:
        raise ValueError(f"payments must be 0 to {MAX_PAYMENTS:,}")
    ctx = _Ctx(random.Random(seed))
    later = [payments * share // sum(scale.shares) for share in scale.shares[1:]]
    shares = (payments - sum(later), *later)
    async with engine.begin() as conn:
        if await _has_tenants(conn):
            raise DemoNeedsEmptyDatabase(
                "the demo loads into an empty database; this one has tenants already "
                "(give a new DATABASE_URL, or drop this database)"
            )
        worlds = []
        for index, ((slug, name), n) in enumerate(zip(TENANTS, shares, strict=False)):
            tid = ctx.add(TENANT, slug=slug, name=name, created_at=BASE - timedelta(days=800))
            world = _world(ctx, tid, slug, n, scale, index)
            world.files = demo_files(tid, name)
            if storage is not None:  # before the rows: never a row without its file
                await store_demo_files(storage, tid, world.files)
            worlds.append(world)
        await _flush(conn, ctx)
        with tqdm(total=payments, unit="payment", disable=not progress) as bar:
            for w, n in zip(worlds, shares, strict=True):
                pending = 0
                for added in _payments(w, n):
                    pending += added
                    if pending >= BATCH:
                        await _flush(conn, ctx)
                        bar.update(pending)
                        pending = 0
                await _flush(conn, ctx)
                bar.update(pending)
        if conn.dialect.name == "postgresql":  # explicit ids did not advance them
            for table in ctx.ids:
                max_id = f"(SELECT MAX(id) FROM {table})"
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {max_id})")
                )
    # Fresh statistics, so the first queries after a bulk load plan with the list indexes
    # (stale counts made PostgreSQL pick a partner's tenant index over its primary key).
    await analyze(engine)
    return DemoSummary(
        tenants={w.slug: w.tenant_id for w in worlds},
        admins={w.slug: w.admin[0] for w in worlds},
        counts=dict(ctx.ids),
    )
