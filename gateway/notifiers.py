"""Where outbox notifications go: a Slack incoming webhook, an SMTP server, or the log."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, Any, Protocol

from gateway.outbox_settings import DEFAULT_MAIL_FROM

if TYPE_CHECKING:
    from gateway.outbox_settings import OutboxSettings

logger = logging.getLogger("paygraph.notifications")


class Notifier(Protocol):
    async def send(self, payload: dict[str, Any]) -> None:
        """Deliver one notification; raise when it was not accepted."""


class DeliveryError(Exception):
    """The receiving server refused the notification or could not be reached."""


class InvalidNotification(ValueError):
    """The payload can never be sent as it is; retrying will not help."""


@dataclass(frozen=True)
class SlackWebhookNotifier:
    """POSTs the payload as-is to a Slack incoming webhook."""

    url: str = field(repr=False)  # the URL's path is its token
    timeout: float = 10.0

    async def send(self, payload: dict[str, Any]) -> None:
        if not isinstance(payload.get("text"), str):
            raise InvalidNotification("a Slack payload needs a `text` string")
        # A client per message: notifications are rare, and no pooled connection outlives
        # the dispatcher, so there is nothing to close on shutdown. Imported here: a
        # server without a webhook has no use for the HTTP client.
        import httpx

        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=_webhook_tls()) as client:
                response = await client.post(self.url, json=payload)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            # Our own message: httpx's could carry the webhook URL into logs and last_error.
            raise DeliveryError(f"Slack webhook unreachable: {_describe(error)}") from None
        if not response.is_success:
            raise DeliveryError(
                f"Slack webhook answered HTTP {response.status_code}: {response.text[:200]}"
            )


@functools.cache
def _webhook_tls() -> ssl.SSLContext:
    """The TLS context of webhook clients, made once: httpx's default, whose CA bundle
    took ~30 ms of CPU to load for every message when each client made its own."""
    import httpx

    return httpx.create_ssl_context()


@dataclass(frozen=True)
class SmtpNotifier:
    """Sends a plain-text (and optionally HTML) e-mail through one SMTP server."""

    host: str
    port: int = 25
    sender: str = DEFAULT_MAIL_FROM
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 10.0

    async def send(self, payload: dict[str, Any]) -> None:
        message = self.message(payload)
        try:
            # smtplib blocks; a worker thread keeps the event loop serving requests.
            await asyncio.to_thread(self._deliver, message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {_describe(error)}") from None

    def message(self, payload: dict[str, Any]) -> EmailMessage:
        """The e-mail for an outbox payload `{to, subject, text, locale, html?}`."""
        fields = {name: payload.get(name) for name in ("to", "subject", "text")}
        missing = [name for name, value in fields.items() if not isinstance(value, str)]
        if missing or "@" not in parseaddr(str(fields["to"]))[1]:
            raise InvalidNotification(f"an e-mail payload needs to, subject and text: {missing}")
        message = EmailMessage()
        try:
            message["From"] = self.sender
            message["To"] = fields["to"]
            message["Subject"] = fields["subject"]
            message["Date"] = formatdate(usegmt=True)
            # The sender's domain, not socket.getfqdn(): that may wait on DNS.
            message["Message-ID"] = make_msgid(domain=parseaddr(self.sender)[1].partition("@")[2])
            message.set_content(str(fields["text"]))
            if isinstance(payload.get("html"), str):
                message.add_alternative(payload["html"], subtype="html")
            if isinstance(payload.get("locale"), str):
                # After the body: setting content clears every Content-* header.
                message["Content-Language"] = payload["locale"]
        except ValueError as error:  # a line break in a header, say: never sendable
            raise InvalidNotification(f"an e-mail header is malformed: {error}") from None
        return message

    def _deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


@dataclass(frozen=True)
class LoggingNotifier:
    """Logs the notification instead of sending it: the channel is not configured."""

    channel: str

    async def send(self, payload: dict[str, Any]) -> None:
        logger.info(
            "%s notification (channel not configured, logged only): %s",
            self.channel,
            json.dumps(payload, ensure_ascii=False, sort_keys=True),
        )


@dataclass(frozen=True)
class Notifiers:
    slack: Notifier
    mail: Notifier


def notifiers_from(settings: OutboxSettings) -> Notifiers:
    """The configured notifier for each channel, or a LoggingNotifier where none is."""
    slack: Notifier = LoggingNotifier("slack")
    mail: Notifier = LoggingNotifier("email")
    if settings.slack_webhook_url is not None:
        slack = SlackWebhookNotifier(settings.slack_webhook_url, timeout=settings.send_timeout)
    if settings.smtp_host is not None:
        mail = SmtpNotifier(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout=settings.send_timeout,
        )
    return Notifiers(slack=slack, mail=mail)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
