"""The notifications the commission workflow queues, rendered when the transition
happens so the outbox row holds exactly what will be sent: Slack messages in the blocks
layout and e-mails from English and Spanish templates, chosen by the user's locale."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain import entities as e


class Channel(StrEnum):
    SLACK = "slack"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Notification:
    channel: Channel
    topic: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Audience:
    """Who hears about a payment: its partner's name, the partner user it is paid to,
    and the Slack channel and mentions this environment configures."""

    partner_name: str
    payee: e.User | None = None
    slack_channel: str | None = None
    rejection_mentions: Sequence[str] = field(default_factory=tuple)


def slack(
    topic: str,
    title: str,
    payment: e.Payment,
    audience: Audience,
    *,
    reason: str | None = None,
    mentions: Sequence[str] = (),
) -> Notification:
    """A Slack message: a header, the payment's facts as fields, then the reason and the
    mentions when there are any."""
    facts = [
        ("Partner", audience.partner_name),
        ("Payment", str(payment.id)),
        ("Amount", payment.requested.format()),
        ("Reference", payment.reference or "-"),
    ]
    if payment.period_start and payment.period_end:
        facts.append(("Period", f"{payment.period_start} to {payment.period_end}"))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{name}:*\n{value}"} for name, value in facts],
        },
    ]
    if reason:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Reason:*\n{reason}"}}
        )
    if mentions:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " ".join(mentions)}]}
        )
    payload: dict[str, Any] = {
        "text": f"{title}: {audience.partner_name}, {payment.requested.format()}",
        "blocks": blocks,
    }
    if audience.slack_channel:
        payload["channel"] = audience.slack_channel
    return Notification(Channel.SLACK, topic, payload)


# partners.mail.documentRejected.* in English and Spanish.
DOCUMENT_REJECTED = {
    "en": {
        "subject": "A document for your commission payment was rejected",
        "greeting": "Hello {name},",
        "body": (
            "The {document} you submitted for commission payment {payment} ({amount}) was rejected."
        ),
        "reason": "Reason: {reason}",
        "action": "Please upload a corrected document so we can complete the review.",
    },
    "es": {
        "subject": "Un documento de tu pago de comisiones fue rechazado",
        "greeting": "Hola {name}:",
        "body": (
            "El documento {document} que enviaste para el pago de comisiones {payment} "
            "({amount}) fue rechazado."
        ),
        "reason": "Motivo: {reason}",
        "action": "Sube un documento corregido para que podamos completar la revisión.",
    },
}
DOCUMENT_TYPE_NAMES = {
    "en": {
        "invoice": "invoice",
        "tax_certificate": "tax certificate",
        "bank_statement": "bank statement",
    },
    "es": {
        "invoice": "factura",
        "tax_certificate": "constancia de situación fiscal",
        "bank_statement": "estado de cuenta bancario",
    },
}


def template_locale(locale: str | None) -> str:
    """`es`, `es-MX` and `es_AR` read Spanish; everything else English."""
    language = (locale or "en").replace("_", "-").split("-")[0].lower()
    return language if language in DOCUMENT_REJECTED else "en"


def document_rejected_email(
    payee: e.User, payment: e.Payment, document_type: str, reason: str
) -> Notification:
    locale = template_locale(payee.locale)
    text = DOCUMENT_REJECTED[locale]
    document = DOCUMENT_TYPE_NAMES[locale].get(document_type, document_type)
    values = {
        "name": payee.name,
        "document": document,
        "payment": payment.id,
        "amount": payment.requested.format(),
        "reason": reason,
    }
    body = "\n\n".join(
        text[part].format(**values) for part in ("greeting", "body", "reason", "action")
    )
    return Notification(
        Channel.EMAIL,
        "commission.document_rejected",
        {"to": payee.email, "subject": text["subject"], "text": body, "locale": locale},
    )
