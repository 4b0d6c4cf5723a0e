"""The commission payout workflow (document 000) end to end over real HTTP: one
`paygraph serve` per backend, driven with the gql client as the partner and the
dashboard would drive it, its notifications delivered by the server's own outbox
dispatcher to a real local Slack webhook receiver and a real SMTP server.

Rows that the workflow could only reach through many steps (an approved payment, a
rejected optional document) are inserted directly; every change is made over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
import pytest
from aiosmtpd.controller import Controller
from gql import Client, FileVar, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from domain.commission import TRANSITIONS, USER_ACTIONS, Action, Block, Caller
from domain.permissions import (
    ALL_PERMISSIONS,
    MARK_PARTNER_PAYMENTS_PAID,
    PAY_PARTNERS_PAYMENTS,
    REQUEST_PARTNER_PAYMENTS,
    VIEW_PARTNER_PAYMENTS,
)
from domain.statuses import STATUSES_BY_KIND, PaymentKind, PaymentStatus
from gateway.auth import mint_token
from gateway.settings import Settings
from tests.e2e.server import TEST_JWT_SECRET, TLS, RunningServer, running_server
from tests.factories import BASE_TIME, Factory, unique
from tests.receivers import MailReceiver, SlackReceiver, free_port, slack_receiver

SETTINGS = Settings(jwt_secret=TEST_JWT_SECRET)
SLACK_CHANNEL = "#partner-payouts"
REJECTION_MENTIONS = ("<!subteam^S0PAYOUTS>", "<@U0FINANCE>")
AMOUNT = 123_456  # 1,234.56 MXN
AMOUNT_TEXT = "1,234.56 MXN"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% commission invoice\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
DELIVERY_DEADLINE = 15.0  # seconds for the outbox to reach a receiver
T = TypeVar("T")


# --- the server and its receivers -----------------------------------------------------


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackReceiver]:
    with slack_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def mail() -> Iterator[MailReceiver]:
    receiver = MailReceiver()
    controller = Controller(receiver, hostname="127.0.0.1", port=free_port())
    controller.start()
    receiver.port = controller.port
    try:
        yield receiver
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def server(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    slack: SlackReceiver,
    mail: MailReceiver,
) -> Iterator[RunningServer]:
    env = {
        "PAYGRAPH_STORAGE_DIR": str(tmp_path_factory.mktemp("documents")),
        "PAYGRAPH_SLACK_WEBHOOK_URL": slack.url,
        "PAYGRAPH_SLACK_CHANNEL": SLACK_CHANNEL,
        "PAYGRAPH_SLACK_MENTIONS_PAYMENT_REJECTED": ",".join(REJECTION_MENTIONS),
        "PAYGRAPH_SMTP_HOST": "127.0.0.1",
        "PAYGRAPH_SMTP_PORT": str(mail.port),
        "PAYGRAPH_OUTBOX_POLL_INTERVAL": "0.1",
        "PAYGRAPH_OUTBOX_BASE_DELAY": "0.1",
        "PAYGRAPH_OUTBOX_MAX_DELAY": "0.5",
    }
    with running_server(database_url, env=env) as running:
        yield running


# --- givens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """A document row as the workflow would have left it, with a file on record."""

    document_type: str
    status: str = "pending"
    required: bool = True
    uploaded: bool = True
    rejection_reason: str | None = None


@dataclass
class Payout:
    """A tenant with one partner (and its user, the payee), one admin, and one
    commission payment of 1,234.56 MXN for October 2025."""

    tenant_id: int
    partner_id: int
    partner_name: str
    admin_id: int
    admin_name: str
    payee_id: int
    payee_name: str
    payee_email: str
    payment_id: int
    documents: dict[str, int] = field(default_factory=dict)

    def staff(self, *permissions: str, user_id: int | None = None) -> str:
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=user_id or self.admin_id,
            permissions=permissions,
        )

    def partner_user(self, *permissions: str) -> str:
        return mint_token(
            SETTINGS,
            tenant_id=self.tenant_id,
            user_id=self.payee_id,
            permissions=permissions,
            partner_id=self.partner_id,
        )

    def token_for(self, action: Action) -> str:
        """A token of the action's own caller with exactly the action's permissions."""
        transition = TRANSITIONS[action]
        permissions = sorted(transition.permissions)
        if transition.caller is Caller.PARTNER_USER:
            return self.partner_user(*permissions)
        return self.staff(*permissions)

    @property
    def reader(self) -> str:
        return self.staff(VIEW_PARTNER_PAYMENTS)


def today() -> date:
    return datetime.now(UTC).date()


async def new_payout(
    factory: Factory,
    *,
    status: str = "generated",
    documents: Sequence[Doc] = (),
    payout_account: str | None = "po_1234567890",
    cutoff: date | None = date(2025, 11, 5),
    locale: str = "en",
    tenant_id: int | None = None,
) -> Payout:
    tenant = tenant_id or await factory.tenant()
    partner_name = unique("Partner ")
    partner = await factory.partner(
        tenant, name=partner_name, kind="isv", payout_account=payout_account
    )
    admin_name = unique("Admin ")
    admin = await factory.user(tenant, role="admin", name=admin_name)
    payee_name = unique("Payee ")
    email = f"{payee_name.replace(' ', '.').lower()}@partner.example.test"
    payee = await factory.user(
        tenant, role="partner", partner_id=partner, locale=locale, name=payee_name, email=email
    )
    approved = status == PaymentStatus.APPROVED_FOR_PAYMENT
    payment = await factory.payment(
        tenant,
        kind="commission",
        status=status,
        partner_id=partner,
        user_id=payee,
        amount=AMOUNT,
        currency="MXN",
        reference=unique("COM-2025-10-"),
        period_start=date(2025, 10, 1),
        period_end=date(2025, 10, 31),
        cutoff_date=cutoff,
        approved_for_payment_at=BASE_TIME if approved else None,
    )
    payout = Payout(
        tenant, partner, partner_name, admin, admin_name, payee, payee_name, email, payment
    )
    for doc in documents:
        payout.documents[doc.document_type] = await insert_document(factory, payout, doc)
    return payout


async def insert_document(factory: Factory, payout: Payout, doc: Doc) -> int:
    reviewed = doc.status != "pending"
    content = f"{doc.document_type} of payment {payout.payment_id}".encode()
    digest = hashlib.sha256(content).hexdigest()
    file_values: dict[str, Any] = {}
    if doc.uploaded:
        file_values = {
            "file_name": f"{doc.document_type}.pdf",
            "content_type": "application/pdf",
            "size_bytes": len(content),
            "sha256": digest,
            "storage_key": f"{payout.tenant_id}/{digest[:2]}/{digest}",
        }
    return await factory.insert(
        m.PaymentDocument,
        tenant_id=payout.tenant_id,
        payment_id=payout.payment_id,
        document_type=doc.document_type,
        status=doc.status,
        required=doc.required,
        rejection_reason=doc.rejection_reason,
        reviewed_by_id=payout.admin_id if reviewed else None,
        reviewed_at=BASE_TIME if reviewed else None,
        created_at=BASE_TIME,
        updated_at=BASE_TIME,
        **file_values,
    )


APPROVED_DOCUMENTS = (Doc("invoice", "approved"), Doc("tax_certificate", "approved"))


# --- the client side ------------------------------------------------------------------


async def execute(
    server: RunningServer, token: str, operation: str, /, *, upload: bool = False, **variables: Any
) -> dict[str, Any]:
    """One operation through gql over HTTP (a GraphQL multipart request when `upload`);
    raises TransportQueryError when the answer has errors."""
    transport = HTTPXAsyncTransport(
        verify=TLS, url=server.graphql_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    async with Client(transport=transport) as session:
        request = GraphQLRequest(operation, variable_values=variables or None)
        result: dict[str, Any] = await session.execute(request, upload_files=upload)
        return result


async def refused(
    server: RunningServer, token: str, operation: str, /, *, upload: bool = False, **variables: Any
) -> dict[str, Any]:
    """The one error an operation fails with; no data comes with it."""
    with pytest.raises(TransportQueryError) as failure:
        await execute(server, token, operation, upload=upload, **variables)
    errors = failure.value.errors or []
    assert len(errors) == 1, errors
    assert not any((failure.value.data or {}).values()), failure.value.data
    error: dict[str, Any] = errors[0]
    return error


def pdf(name: str = "invoice.pdf", data: bytes = PDF) -> FileVar:
    return FileVar(io.BytesIO(data), filename=name, content_type="application/pdf")


async def eventually(found: Callable[[], list[T]], what: str) -> list[T]:
    """Poll until `found` returns something, up to DELIVERY_DEADLINE."""
    deadline = time.monotonic() + DELIVERY_DEADLINE
    while not (items := found()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {DELIVERY_DEADLINE} seconds")
        await asyncio.sleep(0.05)
    return items


async def slack_message(slack: SlackReceiver, title: str, payout: Payout) -> dict[str, Any]:
    prefix = f"{title}: {payout.partner_name}, "
    messages = await eventually(
        lambda: [body for body in slack.accepted(title) if body["text"].startswith(prefix)],
        f"Slack message {prefix!r}",
    )
    assert len(messages) == 1, messages
    message: dict[str, Any] = messages[0]
    # The blocks layout: a header, the payment's facts as fields, then extras.
    assert message["text"] == f"{title}: {payout.partner_name}, {AMOUNT_TEXT}"
    assert message["channel"] == SLACK_CHANNEL
    blocks = message["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": title}}
    assert blocks[1]["type"] == "section"
    facts = [item["text"] for item in blocks[1]["fields"]]
    assert facts[:3] == [
        f"*Partner:*\n{payout.partner_name}",
        f"*Payment:*\n{payout.payment_id}",
        f"*Amount:*\n{AMOUNT_TEXT}",
    ]
    assert "*Period:*\n2025-10-01 to 2025-10-31" in facts
    return message


def slack_titles(slack: SlackReceiver, payout: Payout) -> list[str]:
    return [
        request.body["text"].partition(":")[0]
        for request in slack.requests
        if f": {payout.partner_name}, " in request.body["text"]
    ]


async def email_to(mail: MailReceiver, address: str) -> EmailMessage:
    messages = await eventually(
        lambda: [message for message in mail.messages("") if message["To"] == address],
        f"e-mail to {address}",
    )
    assert len(messages) == 1, [message["Subject"] for message in messages]
    return messages[0]


# --- the database side ----------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    payment: tuple[Any, ...]
    documents: tuple[tuple[Any, ...], ...]
    events: int
    ledger_lines: int
    outbox_rows: int


async def snapshot(engine: AsyncEngine, payment_id: int) -> Snapshot:
    """What a refused request must leave exactly as it was."""
    p, d = m.Payment, m.PaymentDocument

    async def count(model: Any) -> int:
        statement = select(func.count()).select_from(model).where(model.payment_id == payment_id)
        return int((await connection.execute(statement)).scalar_one())

    async with engine.connect() as connection:
        payment = (
            await connection.execute(
                select(
                    p.status,
                    p.version,
                    p.updated_at,
                    p.approved_for_payment_at,
                    p.paid_at,
                    p.comments,
                ).where(p.id == payment_id)
            )
        ).one()
        documents = (
            await connection.execute(
                select(
                    d.id,
                    d.status,
                    d.rejection_reason,
                    d.reviewed_by_id,
                    d.reviewed_at,
                    d.storage_key,
                    d.updated_at,
                )
                .where(d.payment_id == payment_id)
                .order_by(d.id)
            )
        ).all()
        return Snapshot(
            tuple(payment),
            tuple(tuple(row) for row in documents),
            await count(m.PaymentEvent),
            await count(m.AccountingTransaction),
            await count(m.Outbox),
        )


async def change(engine: AsyncEngine, model: Any, row_id: int, **values: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(update(model).where(model.id == row_id).values(**values))


# --- the operations -------------------------------------------------------------------

UPLOAD = """mutation($payment: ID!, $type: String!, $file: Upload!) {
  addPaymentDocument(paymentId: $payment, documentType: $type, file: $file) {
    success
    payment { databaseId status }
    document {
      databaseId documentType status required fileName contentType sizeBytes sha256
      downloadPath
    }
  }
}"""
REQUEST = """mutation($id: ID!) {
  requestPartnerPayment(id: $id) { success payment { status } }
}"""
APPROVE = """mutation($payment: ID!, $document: ID!) {
  approvePaymentDocument(paymentId: $payment, documentId: $document) {
    success payment { status approvedForPaymentAt }
  }
}"""
REJECT_DOCUMENT = """mutation($payment: ID!, $document: ID!, $reason: String!) {
  rejectPaymentDocument(paymentId: $payment, documentId: $document, rejectionReason: $reason) {
    success payment { status }
  }
}"""
INTERNAL_REVIEW = """mutation($id: ID!, $comments: String!) {
  sendPaymentToInternalReview(id: $id, comments: $comments) {
    success payment { status comments approvedForPaymentAt }
  }
}"""
PAY = """mutation($id: ID!, $key: String!, $comments: String) {
  payPartnerPayment(id: $id, idempotencyKey: $key, comments: $comments) {
    success replayed payment { databaseId status paidAt trackingId }
  }
}"""
REJECT_PAYMENT = """mutation($id: ID!, $comments: String) {
  rejectPartnerPayment(id: $id, comments: $comments) {
    success payment { status comments approvedForPaymentAt }
  }
}"""
MARK_PAID = """mutation($id: ID!, $paidAt: DateTime!, $key: String!) {
  markPartnerPaymentAsPaid(id: $id, paidAt: $paidAt, idempotencyKey: $key) {
    success replayed payment { status paidAt paymentDate }
  }
}"""
STATE = """query($id: ID!) {
  payment(id: $id) {
    status comments approvedForPaymentAt paidAt
    documents(first: 20) {
      nodes {
        databaseId documentType status required rejectionReason reviewedAt
        reviewedBy { databaseId }
      }
    }
    events(first: 50) { nodes { action fromStatus toStatus actorLabel comments } }
    accountingTransactions(first: 20) {
      nodes { postingId accountCode direction amount { amount currency } }
    }
  }
}"""
AVAILABLE = """query($id: ID!) {
  payment(id: $id) { availableTransitions { action mutation allowed reason } }
}"""


async def state(server: RunningServer, payout: Payout) -> dict[str, Any]:
    data = await execute(server, payout.reader, STATE, id=str(payout.payment_id))
    payment: dict[str, Any] = data["payment"]
    return payment


def ledger(payment: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    lines = payment["accountingTransactions"]["nodes"]
    assert len({line["postingId"] for line in lines}) == 1, lines  # one posting
    return sorted(
        (
            line["accountCode"],
            line["direction"],
            line["amount"]["amount"],
            line["amount"]["currency"],
        )
        for line in lines
    )


@dataclass(frozen=True)
class Call:
    document: str
    variables: dict[str, Any]
    upload: bool = False


def call(action: Action, payout: Payout) -> Call:
    """The mutation that takes `action` on the payout, with valid arguments."""
    pid = str(payout.payment_id)
    document = str(next(iter(payout.documents.values()), 0))
    calls: dict[Action, Callable[[], Call]] = {
        Action.REQUEST_PAYMENT: lambda: Call(REQUEST, {"id": pid}),
        Action.ADD_DOCUMENT: lambda: Call(
            UPLOAD, {"payment": pid, "type": "invoice", "file": pdf()}, upload=True
        ),
        Action.APPROVE_DOCUMENT: lambda: Call(APPROVE, {"payment": pid, "document": document}),
        Action.REJECT_DOCUMENT: lambda: Call(
            REJECT_DOCUMENT, {"payment": pid, "document": document, "reason": "Unreadable scan"}
        ),
        Action.SEND_TO_INTERNAL_REVIEW: lambda: Call(
            INTERNAL_REVIEW, {"id": pid, "comments": "Amount differs from the statement"}
        ),
        Action.PAY: lambda: Call(PAY, {"id": pid, "key": str(uuid.uuid4())}),
        Action.REJECT_PAYMENT: lambda: Call(
            REJECT_PAYMENT, {"id": pid, "comments": "Holder does not match"}
        ),
        Action.MARK_AS_PAID: lambda: Call(
            MARK_PAID,
            {"id": pid, "paidAt": "2025-11-06T15:30:00+00:00", "key": str(uuid.uuid4())},
        ),
    }
    return calls[action]()


def mutation_of(action: Action) -> str:
    operation = TRANSITIONS[action].operation
    assert operation is not None
    return operation.partition(".")[2]


async def take(server: RunningServer, token: str, action: Action, payout: Payout) -> Any:
    taken = call(action, payout)
    return await execute(server, token, taken.document, upload=taken.upload, **taken.variables)


async def refuse(server: RunningServer, token: str, action: Action, payout: Payout) -> Any:
    taken = call(action, payout)
    return await refused(server, token, taken.document, upload=taken.upload, **taken.variables)


# --- scenarios ------------------------------------------------------------------------


async def test_a_payout_from_the_partners_documents_to_paid(
    server: RunningServer, engine: AsyncEngine, slack: SlackReceiver
) -> None:
    # given a generated commission payment, its partner user and two admins
    factory = Factory(engine)
    payout = await new_payout(factory)
    payer_name = unique("Payer ")
    payer_id = await factory.user(payout.tenant_id, role="admin", name=payer_name)
    partner = payout.partner_user(REQUEST_PARTNER_PAYMENTS, VIEW_PARTNER_PAYMENTS)
    reviewer = payout.staff(VIEW_PARTNER_PAYMENTS)
    payer = payout.staff(PAY_PARTNERS_PAYMENTS, user_id=payer_id)
    pid = str(payout.payment_id)

    # when the partner user uploads a web page, then it is refused and nothing is kept
    page = FileVar(
        io.BytesIO(b"<script>alert(1)</script>"), filename="x.html", content_type="text/html"
    )
    error = await refused(
        server, partner, UPLOAD, upload=True, payment=pid, type="invoice", file=page
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "file"}
    assert (await snapshot(engine, payout.payment_id)).documents == ()

    # when the partner user uploads its invoice and tax certificate
    uploads = {}
    for kind, name, data, media_type in [
        ("invoice", "factura-octubre.pdf", PDF, "application/pdf"),
        ("tax_certificate", "constancia.png", PNG, "image/png"),
    ]:
        upload = FileVar(io.BytesIO(data), filename=name, content_type=media_type)
        answer = await execute(
            server, partner, UPLOAD, upload=True, payment=pid, type=kind, file=upload
        )
        added = answer["addPaymentDocument"]
        # then each is stored as sent, pending review, and downloadable
        assert added["success"] is True
        assert added["payment"] == {"databaseId": payout.payment_id, "status": "GENERATED"}
        document = added["document"]
        assert document == {
            "databaseId": document["databaseId"],
            "documentType": kind,
            "status": "PENDING",
            "required": True,
            "fileName": name,
            "contentType": media_type,
            "sizeBytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "downloadPath": f"/documents/{document['databaseId']}/content",
        }
        uploads[kind] = document

    async with httpx.AsyncClient(verify=TLS, timeout=30) as client:
        download = await client.get(
            f"{server.url}{uploads['invoice']['downloadPath']}",
            headers={"Authorization": f"Bearer {partner}"},
        )
    assert download.status_code == 200, download.text
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"

    # when the partner user requests the payout
    requested = await execute(server, partner, REQUEST, id=pid)
    assert requested["requestPartnerPayment"] == {
        "success": True,
        "payment": {"status": "PAYMENT_REQUESTED"},
    }

    # when an admin approves both documents, the payment is approved with the second
    first = await execute(
        server, reviewer, APPROVE, payment=pid, document=str(uploads["invoice"]["databaseId"])
    )
    assert first["approvePaymentDocument"]["payment"] == {
        "status": "PAYMENT_REQUESTED",
        "approvedForPaymentAt": None,
    }
    second = await execute(
        server,
        reviewer,
        APPROVE,
        payment=pid,
        document=str(uploads["tax_certificate"]["databaseId"]),
    )
    approved = second["approvePaymentDocument"]["payment"]
    assert approved["status"] == "APPROVED_FOR_PAYMENT"
    assert approved["approvedForPaymentAt"] is not None

    # when an admin with pay-partners-payments pays it, and sends the same request again
    key = str(uuid.uuid4())
    paid = (await execute(server, payer, PAY, id=pid, key=key))["payPartnerPayment"]
    again = (await execute(server, payer, PAY, id=pid, key=key))["payPartnerPayment"]

    # then it is paid once; the second answer replays the first
    assert paid["success"] is True and paid["replayed"] is False
    assert paid["payment"]["status"] == "PAID"
    assert paid["payment"]["paidAt"] is not None
    assert paid["payment"]["trackingId"].startswith("sbx_")
    assert again["replayed"] is True
    assert again["payment"] == paid["payment"]

    # and the audit trail shows every step, the ledger one balanced posting
    final = await state(server, payout)
    assert final["status"] == "PAID"
    assert [document["status"] for document in final["documents"]["nodes"]] == [
        "APPROVED",
        "APPROVED",
    ]
    events = final["events"]["nodes"]
    assert [(e["action"], e["fromStatus"], e["toStatus"], e["actorLabel"]) for e in events] == [
        ("add_document", "GENERATED", "GENERATED", payout.payee_name),
        ("add_document", "GENERATED", "GENERATED", payout.payee_name),
        ("request_payment", "GENERATED", "PAYMENT_REQUESTED", payout.payee_name),
        ("approve_document", "PAYMENT_REQUESTED", "PAYMENT_REQUESTED", payout.admin_name),
        ("approve_document", "PAYMENT_REQUESTED", "APPROVED_FOR_PAYMENT", payout.admin_name),
        ("pay", "APPROVED_FOR_PAYMENT", "PAYOUT_IN_PROGRESS", payer_name),
        ("payout_paid", "PAYOUT_IN_PROGRESS", "PAID", payer_name),
    ]
    assert (
        events[0]["comments"] == f"invoice: factura-octubre.pdf (application/pdf, {len(PDF)} bytes)"
    )
    assert paid["payment"]["trackingId"] in events[-1]["comments"]
    assert ledger(final) == [
        ("commission_expense", "DEBIT", str(AMOUNT), "MXN"),
        ("payout_clearing", "CREDIT", str(AMOUNT), "MXN"),
    ]

    # and Slack hears of the approval and of the payout, once each
    await slack_message(slack, "Commission approved for payment", payout)
    await slack_message(slack, "Commissions paid", payout)
    assert sorted(slack_titles(slack, payout)) == [
        "Commission approved for payment",
        "Commissions paid",
    ]


@pytest.mark.parametrize(
    ("locale", "language"),
    [("es", "es"), ("es-MX", "es"), ("en", "en"), ("pt-BR", "en")],
)
async def test_rejecting_a_document_needs_a_reason_and_emails_the_partner_in_its_language(
    server: RunningServer, engine: AsyncEngine, mail: MailReceiver, locale: str, language: str
) -> None:
    # given a requested payout whose invoice waits for review, for a partner user in `locale`
    payout = await new_payout(
        Factory(engine), status="payment_requested", documents=[Doc("invoice")], locale=locale
    )
    reviewer = payout.staff(PAY_PARTNERS_PAYMENTS)
    pid, invoice = str(payout.payment_id), str(payout.documents["invoice"])
    before = await snapshot(engine, payout.payment_id)

    # when the reason is blank, then nothing happens
    for blank in ("", "   \n\t"):
        error = await refused(
            server, reviewer, REJECT_DOCUMENT, payment=pid, document=invoice, reason=blank
        )
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "rejectionReason"}
        assert error["path"] == ["rejectPaymentDocument"]
    assert await snapshot(engine, payout.payment_id) == before

    # when the document is rejected with a reason
    reason = "El RFC no coincide con la constancia" if language == "es" else "Tax ID mismatch"
    answer = await execute(
        server, reviewer, REJECT_DOCUMENT, payment=pid, document=invoice, reason=f"  {reason} "
    )

    # then the payment waits for new documents and the review is on record
    assert answer["rejectPaymentDocument"] == {
        "success": True,
        "payment": {"status": "DOCUMENTS_REJECTED"},
    }
    final = await state(server, payout)
    [document] = final["documents"]["nodes"]
    assert document["status"] == "REJECTED"
    assert document["rejectionReason"] == reason
    assert document["reviewedBy"] == {"databaseId": payout.admin_id}
    assert document["reviewedAt"] is not None
    assert [(e["action"], e["toStatus"]) for e in final["events"]["nodes"]] == [
        ("reject_document", "DOCUMENTS_REJECTED")
    ]

    # and the partner user gets an e-mail in its language with the type and the reason
    message = await email_to(mail, payout.payee_email)
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert message["Content-Language"] == language
    if language == "es":
        assert message["Subject"] == "Un documento de tu pago de comisiones fue rechazado"
        assert f"Hola {payout.payee_name}:" in text
        assert f"El documento factura que enviaste para el pago de comisiones {pid}" in text
        assert f"Motivo: {reason}" in text
    else:
        assert message["Subject"] == "A document for your commission payment was rejected"
        assert f"Hello {payout.payee_name}," in text
        assert f"The invoice you submitted for commission payment {pid}" in text
        assert f"Reason: {reason}" in text
    assert AMOUNT_TEXT in text


async def test_rejecting_an_approved_payment_sends_every_reviewed_document_back_to_pending(
    server: RunningServer, engine: AsyncEngine, slack: SlackReceiver
) -> None:
    # given an approved payment: two required documents approved, an optional one rejected
    payout = await new_payout(
        Factory(engine),
        status="approved_for_payment",
        documents=[
            *APPROVED_DOCUMENTS,
            Doc("bank_statement", "rejected", required=False, rejection_reason="Old statement"),
        ],
    )
    comments = "The bank account holder does not match the partner"

    # when an admin with pay-partners-payments rejects the payment
    answer = await execute(
        server,
        payout.staff(PAY_PARTNERS_PAYMENTS),
        REJECT_PAYMENT,
        id=str(payout.payment_id),
        comments=comments,
    )

    # then documents are rejected, the approval cleared and the comments kept
    assert answer["rejectPartnerPayment"] == {
        "success": True,
        "payment": {
            "status": "DOCUMENTS_REJECTED",
            "comments": comments,
            "approvedForPaymentAt": None,
        },
    }
    final = await state(server, payout)
    assert [
        (d["documentType"], d["status"], d["rejectionReason"], d["reviewedBy"], d["reviewedAt"])
        for d in final["documents"]["nodes"]
    ] == [
        ("invoice", "PENDING", None, None, None),
        ("tax_certificate", "PENDING", None, None, None),
        ("bank_statement", "PENDING", None, None, None),
    ]
    assert [
        (e["action"], e["fromStatus"], e["toStatus"], e["comments"])
        for e in final["events"]["nodes"]
    ] == [("reject_payment", "APPROVED_FOR_PAYMENT", "DOCUMENTS_REJECTED", comments)]
    assert final["accountingTransactions"]["nodes"] == []

    # and Slack hears why, with this environment's mentions
    message = await slack_message(slack, "Commission payment rejected", payout)
    assert message["blocks"][2:] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Reason:*\n{comments}"}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": " ".join(REJECTION_MENTIONS)}],
        },
    ]


async def test_internal_review_needs_comments_and_a_reviewed_payment_can_be_marked_paid(
    server: RunningServer, engine: AsyncEngine, slack: SlackReceiver
) -> None:
    # given an approved payment
    payout = await new_payout(
        Factory(engine), status="approved_for_payment", documents=APPROVED_DOCUMENTS
    )
    pid = str(payout.payment_id)
    reviewer = payout.staff(PAY_PARTNERS_PAYMENTS)
    marker = payout.staff(MARK_PARTNER_PAYMENTS_PAID)
    before = await snapshot(engine, payout.payment_id)

    # when it is sent to internal review without comments, then nothing happens
    for blank in ("", "  "):
        error = await refused(server, reviewer, INTERNAL_REVIEW, id=pid, comments=blank)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "comments"}
        assert error["path"] == ["sendPaymentToInternalReview"]
    assert await snapshot(engine, payout.payment_id) == before

    # when it is sent with comments, it is under review and no longer approved
    comments = "Amount differs from the partner's statement"
    reviewed = await execute(server, reviewer, INTERNAL_REVIEW, id=pid, comments=comments)
    assert reviewed["sendPaymentToInternalReview"]["payment"] == {
        "status": "UNDER_REVIEW",
        "comments": comments,
        "approvedForPaymentAt": None,
    }
    under_review = await snapshot(engine, payout.payment_id)

    # when it is marked paid in the future, then nothing happens
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    error = await refused(server, marker, MARK_PAID, id=pid, paidAt=tomorrow, key="mark-1")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "paidAt"}
    assert await snapshot(engine, payout.payment_id) == under_review

    # when it is marked paid yesterday (twice, with one key)
    paid_at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    marked = await execute(
        server, marker, MARK_PAID, id=pid, paidAt=paid_at.isoformat(), key="mark-2"
    )
    again = await execute(
        server, marker, MARK_PAID, id=pid, paidAt=paid_at.isoformat(), key="mark-2"
    )

    # then it is manually paid at that moment, with one posting to manual payouts
    result = marked["markPartnerPaymentAsPaid"]
    assert result["replayed"] is False
    assert result["payment"]["status"] == "MANUALLY_PAID"
    assert datetime.fromisoformat(result["payment"]["paidAt"]) == paid_at
    assert result["payment"]["paymentDate"] == paid_at.date().isoformat()
    assert again["markPartnerPaymentAsPaid"]["replayed"] is True
    assert again["markPartnerPaymentAsPaid"]["payment"] == result["payment"]
    final = await state(server, payout)
    assert [(e["action"], e["toStatus"]) for e in final["events"]["nodes"]] == [
        ("send_to_internal_review", "UNDER_REVIEW"),
        ("mark_as_paid", "MANUALLY_PAID"),
    ]
    assert ledger(final) == [
        ("commission_expense", "DEBIT", str(AMOUNT), "MXN"),
        ("manual_payouts", "CREDIT", str(AMOUNT), "MXN"),
    ]
    await slack_message(slack, "Commissions paid", payout)


ELIGIBILITY: dict[Block, dict[str, Any]] = {
    Block.NO_PAYOUT_ACCOUNT: {"payout_account": None},
    Block.CUTOFF_NOT_REACHED: {"cutoff": date(2999, 1, 1)},
    Block.DOCUMENTS_PENDING: {
        "documents": [Doc("invoice", "approved"), Doc("tax_certificate", "pending")]
    },
}


async def fix(engine: AsyncEngine, payout: Payout, reason: Block) -> None:
    """Remove what made the payout ineligible, as an operator would."""
    if reason is Block.NO_PAYOUT_ACCOUNT:
        await change(engine, m.Partner, payout.partner_id, payout_account="po_fixed_0001")
    elif reason is Block.CUTOFF_NOT_REACHED:
        await change(engine, m.Payment, payout.payment_id, cutoff_date=today())
    else:
        pending = payout.documents["tax_certificate"]
        await change(engine, m.PaymentDocument, pending, status="approved")


@pytest.mark.parametrize("reason", list(ELIGIBILITY), ids=str)
@pytest.mark.parametrize("action", [Action.PAY, Action.REJECT_PAYMENT], ids=str)
async def test_paying_or_rejecting_needs_an_eligible_payout(
    server: RunningServer, engine: AsyncEngine, action: Action, reason: Block
) -> None:
    # given an approved payment that is not eligible for payout for `reason`
    given: dict[str, Any] = {"documents": APPROVED_DOCUMENTS, **ELIGIBILITY[reason]}
    payout = await new_payout(Factory(engine), status="approved_for_payment", **given)
    token = payout.staff(PAY_PARTNERS_PAYMENTS)
    before = await snapshot(engine, payout.payment_id)
    taken = call(action, payout)

    # when the admin pays or rejects it
    error = await refused(server, token, taken.document, **taken.variables)

    # then it is refused for that reason and nothing changes
    assert error["extensions"] == {
        "code": "INVALID_STATE",
        "status": "approved_for_payment",
        "reason": reason.value,
    }
    assert error["path"] == [mutation_of(action)]
    assert await snapshot(engine, payout.payment_id) == before

    # and once the cause is gone, the same request goes through
    await fix(engine, payout, reason)
    answer = await execute(server, token, taken.document, **taken.variables)
    expected = "PAID" if action is Action.PAY else "DOCUMENTS_REJECTED"
    assert answer[mutation_of(action)]["payment"]["status"] == expected


COMMISSION_STATUSES = STATUSES_BY_KIND[PaymentKind.COMMISSION]
ILLEGAL = [
    pytest.param(action, status, id=f"{action.value}-from-{status.value}")
    for action in USER_ACTIONS
    for status in COMMISSION_STATUSES
    if status not in TRANSITIONS[action].sources
]


def test_every_user_action_has_a_call_and_an_illegal_status() -> None:
    payout = Payout(1, 1, "P", 1, "A", 1, "U", "u@example.test", 1, {"invoice": 1})
    for action in USER_ACTIONS:
        assert f"{mutation_of(action)}(" in call(action, payout).document, action
    assert {param.values[0] for param in ILLEGAL} == set(USER_ACTIONS)


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
async def test_every_illegal_transition_is_refused_and_changes_nothing(
    server: RunningServer, engine: AsyncEngine, action: Action, status: PaymentStatus
) -> None:
    # given a payment in a status the action does not start from, with a document to review
    payout = await new_payout(Factory(engine), status=status.value, documents=[Doc("invoice")])
    before = await snapshot(engine, payout.payment_id)

    # when its own caller, with the action's permissions, takes the action
    error = await refuse(server, payout.token_for(action), action, payout)

    # then it is refused, naming the current status, and nothing changes (while a payout
    # awaits its provider's answer the reason says so)
    in_progress = status is PaymentStatus.PAYOUT_IN_PROGRESS
    assert error["extensions"] == {
        "code": "INVALID_STATE",
        "status": status.value,
        "reason": "PAYOUT_IN_PROGRESS" if in_progress else "WRONG_STATUS",
    }
    if in_progress:
        assert "a payout of it is in progress" in error["message"]
    else:
        assert f"it is {status.value};" in error["message"]
    assert error["path"] == [mutation_of(action)]
    assert await snapshot(engine, payout.payment_id) == before


async def test_callers_reach_only_their_own_payments_and_actions(
    server: RunningServer, engine: AsyncEngine
) -> None:
    # given a generated payout ready to request, a requested one and an approved one
    factory = Factory(engine)
    ready = await new_payout(factory, documents=[Doc("invoice")])
    requested = await new_payout(
        factory, status="payment_requested", documents=[Doc("invoice")], tenant_id=ready.tenant_id
    )
    approved = await new_payout(
        factory,
        status="approved_for_payment",
        documents=APPROVED_DOCUMENTS,
        tenant_id=ready.tenant_id,
    )
    # and another partner of the same tenant, and an admin of another tenant
    other_partner = await new_payout(factory, tenant_id=ready.tenant_id)
    other_tenant = await new_payout(factory)
    payouts = (ready, requested, approved)
    before = [await snapshot(engine, payout.payment_id) for payout in payouts]

    # when another partner's user requests or uploads: NOT_FOUND
    stranger = other_partner.partner_user(REQUEST_PARTNER_PAYMENTS, VIEW_PARTNER_PAYMENTS)
    for action in (Action.REQUEST_PAYMENT, Action.ADD_DOCUMENT):
        error = await refuse(server, stranger, action, ready)
        assert error["extensions"]["code"] == "NOT_FOUND", error
        assert error["path"] == [mutation_of(action)]

    # when an admin of another tenant takes any staff action: NOT_FOUND
    foreign = other_tenant.staff(*ALL_PERMISSIONS)
    for action, payout in [
        (Action.APPROVE_DOCUMENT, requested),
        (Action.REJECT_DOCUMENT, requested),
        (Action.SEND_TO_INTERNAL_REVIEW, requested),
        (Action.PAY, approved),
        (Action.REJECT_PAYMENT, approved),
        (Action.MARK_AS_PAID, approved),
    ]:
        error = await refuse(server, foreign, action, payout)
        assert error["extensions"]["code"] == "NOT_FOUND", (action, error)

    # when an admin of the tenant requests or uploads for the partner: FORBIDDEN
    admin = ready.staff(*ALL_PERMISSIONS)
    for action in (Action.REQUEST_PAYMENT, Action.ADD_DOCUMENT):
        error = await refuse(server, admin, action, ready)
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert "partner's own users" in error["message"]

    # when the partner's own user reviews its documents, even with view-partner-payments
    own = requested.partner_user(*ALL_PERMISSIONS)
    for action in (Action.APPROVE_DOCUMENT, Action.SEND_TO_INTERNAL_REVIEW):
        error = await refuse(server, own, action, requested)
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert "Only staff" in error["message"]

    # then nothing changed, and the rightful callers can still do it all
    assert [await snapshot(engine, payout.payment_id) for payout in payouts] == before
    await take(server, ready.partner_user(REQUEST_PARTNER_PAYMENTS), Action.REQUEST_PAYMENT, ready)
    await take(server, requested.staff(VIEW_PARTNER_PAYMENTS), Action.APPROVE_DOCUMENT, requested)
    await take(server, approved.staff(PAY_PARTNERS_PAYMENTS), Action.PAY, approved)


async def test_a_wrong_caller_refusal_names_its_reason(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """domain.commission.Block: its codes are `availableTransitions`' reasons and those of
    INVALID_STATE / FORBIDDEN errors' `extensions.reason`."""
    # given a payout ready to request
    payout = await new_payout(Factory(engine), documents=[Doc("invoice")])

    # when an admin requests it
    error = await refuse(
        server, payout.staff(REQUEST_PARTNER_PAYMENTS), Action.REQUEST_PAYMENT, payout
    )

    # then the refusal says why, as availableTransitions does
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "WRONG_CALLER"}


# availableTransitions: (given, viewer, expected) -> every user action's reason (None:
# allowed). `default` covers the actions not named.


def expect(default: str | None, **reasons: str | None) -> dict[str, str | None]:
    return {action.name: reasons.get(action.name, default) for action in USER_ACTIONS}


PARTNER = ("partner", REQUEST_PARTNER_PAYMENTS, VIEW_PARTNER_PAYMENTS)
EVERYTHING = ("staff", *sorted(ALL_PERMISSIONS))
READER = ("staff", VIEW_PARTNER_PAYMENTS)
PAYER = ("staff", PAY_PARTNERS_PAYMENTS, VIEW_PARTNER_PAYMENTS)
ELIGIBLE: dict[str, Any] = {"status": "approved_for_payment", "documents": APPROVED_DOCUMENTS}
AVAILABILITY = {
    "partner-generated-without-documents": (
        {},
        PARTNER,
        expect(
            "MISSING_PERMISSION",
            REQUEST_PAYMENT="DOCUMENTS_MISSING",
            ADD_DOCUMENT=None,
            APPROVE_DOCUMENT="WRONG_CALLER",
        ),
    ),
    "partner-generated-with-a-document": (
        {"documents": [Doc("invoice")]},
        PARTNER,
        expect(
            "MISSING_PERMISSION",
            REQUEST_PAYMENT=None,
            ADD_DOCUMENT=None,
            APPROVE_DOCUMENT="WRONG_CALLER",
        ),
    ),
    "partner-generated-with-a-required-file-missing": (
        {"documents": [Doc("invoice"), Doc("tax_certificate", uploaded=False)]},
        PARTNER,
        expect(
            "MISSING_PERMISSION",
            REQUEST_PAYMENT="DOCUMENTS_MISSING",
            ADD_DOCUMENT=None,
            APPROVE_DOCUMENT="WRONG_CALLER",
        ),
    ),
    "reader-generated": (
        {"documents": [Doc("invoice")]},
        READER,
        expect("MISSING_PERMISSION", APPROVE_DOCUMENT="WRONG_STATUS"),
    ),
    "everything-generated": (
        {"documents": [Doc("invoice")]},
        EVERYTHING,
        expect("WRONG_STATUS", REQUEST_PAYMENT="WRONG_CALLER", ADD_DOCUMENT="WRONG_CALLER"),
    ),
    "reader-requested": (
        {"status": "payment_requested", "documents": [Doc("invoice")]},
        READER,
        expect("MISSING_PERMISSION", APPROVE_DOCUMENT=None),
    ),
    "everything-requested": (
        {"status": "payment_requested", "documents": [Doc("invoice")]},
        EVERYTHING,
        expect(
            "WRONG_STATUS",
            REQUEST_PAYMENT="WRONG_CALLER",
            ADD_DOCUMENT="WRONG_CALLER",
            APPROVE_DOCUMENT=None,
            REJECT_DOCUMENT=None,
            SEND_TO_INTERNAL_REVIEW=None,
        ),
    ),
    "everything-requested-nothing-uploaded": (
        {"status": "payment_requested", "documents": [Doc("invoice", uploaded=False)]},
        EVERYTHING,
        expect(
            "WRONG_STATUS",
            REQUEST_PAYMENT="WRONG_CALLER",
            ADD_DOCUMENT="WRONG_CALLER",
            APPROVE_DOCUMENT="NOTHING_TO_REVIEW",
            REJECT_DOCUMENT="NOTHING_TO_REVIEW",
            SEND_TO_INTERNAL_REVIEW=None,
        ),
    ),
    "payer-approved": (
        ELIGIBLE,
        PAYER,
        expect(
            "MISSING_PERMISSION",
            APPROVE_DOCUMENT="WRONG_STATUS",
            REJECT_DOCUMENT="WRONG_STATUS",
            SEND_TO_INTERNAL_REVIEW=None,
            PAY=None,
            REJECT_PAYMENT=None,
        ),
    ),
    "everything-approved": (
        ELIGIBLE,
        EVERYTHING,
        expect(
            None,
            REQUEST_PAYMENT="WRONG_CALLER",
            ADD_DOCUMENT="WRONG_CALLER",
            APPROVE_DOCUMENT="WRONG_STATUS",
            REJECT_DOCUMENT="WRONG_STATUS",
        ),
    ),
    **{
        f"everything-approved-{reason.value.lower().replace('_', '-')}": (
            {**ELIGIBLE, **ELIGIBILITY[reason]},
            EVERYTHING,
            expect(
                None,
                REQUEST_PAYMENT="WRONG_CALLER",
                ADD_DOCUMENT="WRONG_CALLER",
                APPROVE_DOCUMENT="WRONG_STATUS",
                REJECT_DOCUMENT="WRONG_STATUS",
                PAY=reason.value,
                REJECT_PAYMENT=reason.value,
            ),
        )
        for reason in ELIGIBILITY
    },
}


def viewer_token(payout: Payout, viewer: tuple[str, ...]) -> str:
    kind, *permissions = viewer
    return payout.partner_user(*permissions) if kind == "partner" else payout.staff(*permissions)


@pytest.mark.parametrize(("given", "viewer", "expected"), AVAILABILITY.values(), ids=AVAILABILITY)
async def test_available_transitions_agree_with_the_mutations(
    server: RunningServer,
    engine: AsyncEngine,
    given: dict[str, Any],
    viewer: tuple[str, ...],
    expected: dict[str, str | None],
) -> None:
    factory = Factory(engine)
    payout = await new_payout(factory, **given)
    token = viewer_token(payout, viewer)

    # when the viewer asks what it may do
    data = await execute(server, token, AVAILABLE, id=str(payout.payment_id))

    # then every user action is listed, in the table's order, allowed or with its reason
    listed = data["payment"]["availableTransitions"]
    assert [option["action"] for option in listed] == [action.name for action in USER_ACTIONS]
    assert [option["mutation"] for option in listed] == [mutation_of(a) for a in USER_ACTIONS]
    assert {option["action"]: option["reason"] for option in listed} == expected
    assert all(option["allowed"] is (option["reason"] is None) for option in listed)

    # and each refused action fails for that reason, changing nothing
    before = await snapshot(engine, payout.payment_id)
    for action in USER_ACTIONS:
        reason = expected[action.name]
        if reason is None:
            continue
        error = await refuse(server, token, action, payout)
        if reason in {"MISSING_PERMISSION", "WRONG_CALLER"}:
            assert error["extensions"]["code"] == "FORBIDDEN", (action, error)
        else:
            assert error["extensions"]["code"] == "INVALID_STATE", (action, error)
            assert error["extensions"]["reason"] == reason, (action, error)
    assert await snapshot(engine, payout.payment_id) == before

    # and each allowed action then succeeds (each on a payout of its own)
    for action in USER_ACTIONS:
        if expected[action.name] is None:
            fresh = await new_payout(factory, **given)
            answer = await take(server, viewer_token(fresh, viewer), action, fresh)
            assert answer[mutation_of(action)]["success"] is True


REJECT_AND_LOOK_AHEAD = """mutation($payment: ID!, $document: ID!, $reason: String!) {
  rejectPaymentDocument(paymentId: $payment, documentId: $document, rejectionReason: $reason) {
    payment { status availableTransitions { action reason } }
  }
}"""


async def test_available_transitions_in_a_payload_are_the_workflows_view(
    server: RunningServer, engine: AsyncEngine
) -> None:
    """Document 000 lets an admin reject documents with pay-partners-payments alone, so a
    caller may change a payment it cannot read; the payload's availableTransitions is
    then its only view of what comes next, and must run the mutations' checks."""
    # given a requested payout with two documents to review, and an admin who may
    # reject documents but holds no read permission
    payout = await new_payout(
        Factory(engine),
        status="payment_requested",
        documents=[Doc("invoice"), Doc("tax_certificate")],
    )
    rejecter = payout.staff(PAY_PARTNERS_PAYMENTS)
    pid = str(payout.payment_id)

    # when it rejects the invoice and looks at what it may do next
    answer = await execute(
        server,
        rejecter,
        REJECT_AND_LOOK_AHEAD,
        payment=pid,
        document=str(payout.documents["invoice"]),
        reason="Unreadable scan",
    )
    options = answer["rejectPaymentDocument"]["payment"]["availableTransitions"]
    listed = {option["action"]: option["reason"] for option in options}

    # then rejecting the tax certificate too succeeds...
    second = await execute(
        server,
        rejecter,
        REJECT_DOCUMENT,
        payment=pid,
        document=str(payout.documents["tax_certificate"]),
        reason="Expired",
    )
    assert second["rejectPaymentDocument"]["payment"]["status"] == "DOCUMENTS_REJECTED"
    # ...so availableTransitions must have listed it as allowed
    assert listed["REJECT_DOCUMENT"] is None, listed


async def test_idempotency_keys_are_per_request_per_user_and_per_tenant(
    server: RunningServer, engine: AsyncEngine
) -> None:
    # given an approved payout paid with a key
    factory = Factory(engine)
    payout = await new_payout(factory, status="approved_for_payment", documents=APPROVED_DOCUMENTS)
    colleague = await factory.user(payout.tenant_id, role="admin")
    payer = payout.staff(PAY_PARTNERS_PAYMENTS)
    pid, key = str(payout.payment_id), f"payout-{uuid.uuid4()}"
    first = await execute(server, payer, PAY, id=pid, key=key, comments="October commissions")
    paid = await snapshot(engine, payout.payment_id)

    # when the key comes back with other comments, or from another admin: refused
    other_input = await refused(server, payer, PAY, id=pid, key=key, comments="Other comments")
    other_user = await refused(
        server,
        payout.staff(PAY_PARTNERS_PAYMENTS, user_id=colleague),
        PAY,
        id=pid,
        key=key,
        comments="October commissions",
    )
    for error in (other_input, other_user):
        assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED", error
        assert error["path"] == ["payPartnerPayment"]
    assert await snapshot(engine, payout.payment_id) == paid

    # when it comes back as it was: the first answer
    again = await execute(server, payer, PAY, id=pid, key=key, comments="October commissions")
    assert again["payPartnerPayment"]["replayed"] is True
    assert again["payPartnerPayment"]["payment"] == first["payPartnerPayment"]["payment"]

    # when two tenants use one key string: each pays its own payout
    shared = f"shared-{uuid.uuid4()}"
    for tenant in range(2):
        other = await new_payout(
            factory, status="approved_for_payment", documents=APPROVED_DOCUMENTS
        )
        answer = await execute(
            server,
            other.staff(PAY_PARTNERS_PAYMENTS),
            PAY,
            id=str(other.payment_id),
            key=shared,
        )
        assert answer["payPartnerPayment"]["replayed"] is False, tenant
        assert answer["payPartnerPayment"]["payment"]["databaseId"] == other.payment_id
        assert answer["payPartnerPayment"]["payment"]["status"] == "PAID"
