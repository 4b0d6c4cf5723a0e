"""The outbox dispatcher's settings: where notifications go and how often to retry them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import urlsplit

from gateway.environment import SettingsError, env_flag, env_int, env_seconds, env_text
from gateway.settings import is_loopback

DEFAULT_MAIL_FROM = "PayGraph <no-reply@paygraph.local>"


class OutboxSettingsError(SettingsError):
    """A PAYGRAPH_SMTP_*, PAYGRAPH_SLACK_* or PAYGRAPH_OUTBOX_* value is unusable."""


@dataclass(frozen=True)
class OutboxSettings:
    """Channels (None: the channel is only logged) and the retry policy."""

    # repr=False: the webhook's path is its token, and the password is a password.
    slack_webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    mail_from: str = DEFAULT_MAIL_FROM
    max_attempts: int = 8
    base_delay: float = 2.0
    max_delay: float = 600.0
    poll_interval: float = 1.0
    batch_size: int = 50
    send_timeout: float = 10.0

    def __post_init__(self) -> None:
        _check(self)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt: doubling, capped."""
        doublings = min(max(attempts - 1, 0), 64)  # 2**64 times any delay is past the cap
        return float(min(self.base_delay * 2**doublings, self.max_delay))

    @property
    def lease(self) -> float:
        """How long a claimed batch stays reserved for its dispatcher. A dispatcher that
        dies mid-batch delays its rows by at most this; one that lives sends a row only
        while two full send timeouts remain (see OutboxDispatcher)."""
        return 6 * self.send_timeout

    @classmethod
    def from_env(cls) -> OutboxSettings:
        return cls(
            slack_webhook_url=_text("PAYGRAPH_SLACK_WEBHOOK_URL"),
            smtp_host=_text("PAYGRAPH_SMTP_HOST"),
            smtp_port=_int("PAYGRAPH_SMTP_PORT", 25),
            smtp_username=_text("PAYGRAPH_SMTP_USERNAME"),
            smtp_password=os.environ.get("PAYGRAPH_SMTP_PASSWORD") or None,
            # Strict: `PAYGRAPH_SMTP_STARTTLS=ture` must not quietly send credentials in
            # clear text.
            smtp_starttls=env_flag("PAYGRAPH_SMTP_STARTTLS", False, error=OutboxSettingsError),
            mail_from=_text("PAYGRAPH_MAIL_FROM") or DEFAULT_MAIL_FROM,
            max_attempts=_int("PAYGRAPH_OUTBOX_MAX_ATTEMPTS", 8),
            base_delay=_float("PAYGRAPH_OUTBOX_BASE_DELAY", 2.0),
            max_delay=_float("PAYGRAPH_OUTBOX_MAX_DELAY", 600.0),
            poll_interval=_float("PAYGRAPH_OUTBOX_POLL_INTERVAL", 1.0),
            batch_size=_int("PAYGRAPH_OUTBOX_BATCH", 50),
            send_timeout=_float("PAYGRAPH_OUTBOX_SEND_TIMEOUT", 10.0),
        )


def _check(settings: OutboxSettings) -> None:
    if settings.slack_webhook_url is not None:
        url = urlsplit(settings.slack_webhook_url)
        if url.scheme not in {"http", "https"} or not url.hostname:
            # The URL is a secret (its path is the token): never echo it.
            raise OutboxSettingsError("PAYGRAPH_SLACK_WEBHOOK_URL must be an http(s) URL")
    if not 1 <= settings.smtp_port <= 65535:
        raise OutboxSettingsError("PAYGRAPH_SMTP_PORT must be 1..65535")
    if (settings.smtp_username is None) != (settings.smtp_password is None):
        raise OutboxSettingsError(
            "PAYGRAPH_SMTP_USERNAME and PAYGRAPH_SMTP_PASSWORD go together: set both or neither"
        )
    host = settings.smtp_host
    if settings.smtp_username and not settings.smtp_starttls and host and not is_loopback(host):
        raise OutboxSettingsError(
            "PAYGRAPH_SMTP_USERNAME needs PAYGRAPH_SMTP_STARTTLS=true: the password "
            f"would cross the network to {host} in clear text"
        )
    if "@" not in parseaddr(settings.mail_from)[1]:
        raise OutboxSettingsError(
            f"PAYGRAPH_MAIL_FROM must be an address such as {DEFAULT_MAIL_FROM!r}, "
            f"not {settings.mail_from!r}"
        )
    if settings.max_attempts < 1:
        raise OutboxSettingsError("PAYGRAPH_OUTBOX_MAX_ATTEMPTS must be at least 1")
    if settings.base_delay < 0 or settings.max_delay < settings.base_delay:
        raise OutboxSettingsError(
            "PAYGRAPH_OUTBOX_BASE_DELAY must be >= 0 and PAYGRAPH_OUTBOX_MAX_DELAY >= it"
        )
    if settings.poll_interval <= 0:
        raise OutboxSettingsError("PAYGRAPH_OUTBOX_POLL_INTERVAL must be above 0 seconds")
    if settings.batch_size < 1:
        raise OutboxSettingsError("PAYGRAPH_OUTBOX_BATCH must be at least 1")
    if settings.send_timeout <= 0:
        raise OutboxSettingsError("PAYGRAPH_OUTBOX_SEND_TIMEOUT must be above 0 seconds")


_text = env_text


def _int(name: str, default: int) -> int:
    return env_int(name, default, error=OutboxSettingsError)


def _float(name: str, default: float) -> float:
    return env_seconds(name, default, error=OutboxSettingsError)
