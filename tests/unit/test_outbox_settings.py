"""OutboxSettings: read from the environment, checked at start-up, secrets kept out of
reprs and error messages; the retry delay doubles up to its cap."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gateway.notifiers import LoggingNotifier, SlackWebhookNotifier, SmtpNotifier, notifiers_from
from gateway.outbox_settings import DEFAULT_MAIL_FROM, OutboxSettings, OutboxSettingsError
from gateway.settings import SettingsError

WEBHOOK = "https://hooks.slack.test/services/T0/B0/very-secret-token"
PREFIXES = ("PAYGRAPH_SMTP_", "PAYGRAPH_SLACK_", "PAYGRAPH_OUTBOX_", "PAYGRAPH_MAIL_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(PREFIXES):
            monkeypatch.delenv(name)
    yield


def test_no_environment_means_log_only_channels_and_the_documented_defaults() -> None:
    settings = OutboxSettings.from_env()

    assert settings == OutboxSettings()
    assert (settings.slack_webhook_url, settings.smtp_host) == (None, None)
    assert (settings.smtp_port, settings.smtp_starttls, settings.mail_from) == (
        25,
        False,
        DEFAULT_MAIL_FROM,
    )
    assert (settings.max_attempts, settings.base_delay, settings.max_delay) == (8, 2.0, 600.0)
    assert (settings.poll_interval, settings.batch_size, settings.send_timeout) == (1.0, 50, 10.0)
    assert notifiers_from(settings).slack == LoggingNotifier("slack")
    assert notifiers_from(settings).mail == LoggingNotifier("email")


def test_every_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {
        "PAYGRAPH_SLACK_WEBHOOK_URL": WEBHOOK,
        "PAYGRAPH_SMTP_HOST": "smtp.example.test",
        "PAYGRAPH_SMTP_PORT": "587",
        "PAYGRAPH_SMTP_USERNAME": "mailer",
        "PAYGRAPH_SMTP_PASSWORD": "hunter2",
        "PAYGRAPH_SMTP_STARTTLS": "yes",
        "PAYGRAPH_MAIL_FROM": "Acme Pay <pay@acme.test>",
        "PAYGRAPH_OUTBOX_MAX_ATTEMPTS": "5",
        "PAYGRAPH_OUTBOX_BASE_DELAY": "0.5",
        "PAYGRAPH_OUTBOX_MAX_DELAY": "30",
        "PAYGRAPH_OUTBOX_POLL_INTERVAL": "0.25",
        "PAYGRAPH_OUTBOX_BATCH": "20",
        "PAYGRAPH_OUTBOX_SEND_TIMEOUT": "3",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    settings = OutboxSettings.from_env()

    assert settings == OutboxSettings(
        slack_webhook_url=WEBHOOK,
        smtp_host="smtp.example.test",
        smtp_port=587,
        smtp_username="mailer",
        smtp_password="hunter2",
        smtp_starttls=True,
        mail_from="Acme Pay <pay@acme.test>",
        max_attempts=5,
        base_delay=0.5,
        max_delay=30.0,
        poll_interval=0.25,
        batch_size=20,
        send_timeout=3.0,
    )
    notifiers = notifiers_from(settings)
    assert notifiers.slack == SlackWebhookNotifier(WEBHOOK, timeout=3.0)
    assert notifiers.mail == SmtpNotifier(
        "smtp.example.test",
        587,
        sender="Acme Pay <pay@acme.test>",
        username="mailer",
        password="hunter2",
        starttls=True,
        timeout=3.0,
    )


def test_secrets_stay_out_of_reprs() -> None:
    settings = OutboxSettings(
        slack_webhook_url=WEBHOOK,
        smtp_host="127.0.0.1",
        smtp_username="mailer",
        smtp_password="hunter2",
    )
    shown = repr(settings) + repr(notifiers_from(settings))

    assert "very-secret-token" not in shown
    assert "hunter2" not in shown
    assert "mailer" in shown  # a user name helps to debug and is no secret


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"PAYGRAPH_SMTP_PORT": "smtp"}, "PAYGRAPH_SMTP_PORT must be an integer"),
        ({"PAYGRAPH_SMTP_PORT": "0"}, "PAYGRAPH_SMTP_PORT must be 1..65535"),
        ({"PAYGRAPH_SMTP_PORT": "70000"}, "PAYGRAPH_SMTP_PORT must be 1..65535"),
        ({"PAYGRAPH_SMTP_STARTTLS": "ture"}, "PAYGRAPH_SMTP_STARTTLS must be true or false"),
        ({"PAYGRAPH_SMTP_USERNAME": "mailer"}, "set both or neither"),
        ({"PAYGRAPH_SMTP_PASSWORD": "hunter2"}, "set both or neither"),
        (
            {
                "PAYGRAPH_SMTP_HOST": "smtp.example.test",
                "PAYGRAPH_SMTP_USERNAME": "mailer",
                "PAYGRAPH_SMTP_PASSWORD": "hunter2",
            },
            "needs PAYGRAPH_SMTP_STARTTLS=true",
        ),
        ({"PAYGRAPH_MAIL_FROM": "PayGraph"}, "PAYGRAPH_MAIL_FROM must be an address"),
        ({"PAYGRAPH_SLACK_WEBHOOK_URL": "hooks.slack.test/x"}, "must be an http(s) URL"),
        ({"PAYGRAPH_OUTBOX_MAX_ATTEMPTS": "0"}, "PAYGRAPH_OUTBOX_MAX_ATTEMPTS must be at least 1"),
        ({"PAYGRAPH_OUTBOX_BASE_DELAY": "-1"}, "PAYGRAPH_OUTBOX_BASE_DELAY must be >= 0"),
        ({"PAYGRAPH_OUTBOX_BASE_DELAY": "nan"}, "must be a number of seconds, not 'nan'"),
        ({"PAYGRAPH_OUTBOX_MAX_DELAY": "1"}, "PAYGRAPH_OUTBOX_MAX_DELAY >= it"),
        ({"PAYGRAPH_OUTBOX_MAX_DELAY": "10m"}, "must be a number of seconds, not '10m'"),
        ({"PAYGRAPH_OUTBOX_POLL_INTERVAL": "0"}, "PAYGRAPH_OUTBOX_POLL_INTERVAL must be above 0"),
        ({"PAYGRAPH_OUTBOX_BATCH": "0"}, "PAYGRAPH_OUTBOX_BATCH must be at least 1"),
        ({"PAYGRAPH_OUTBOX_SEND_TIMEOUT": "inf"}, "must be a number of seconds, not 'inf'"),
        ({"PAYGRAPH_OUTBOX_SEND_TIMEOUT": "0"}, "PAYGRAPH_OUTBOX_SEND_TIMEOUT must be above 0"),
    ],
)
def test_unusable_values_are_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], complaint: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(OutboxSettingsError) as refused:
        OutboxSettings.from_env()

    assert complaint in str(refused.value)
    assert isinstance(refused.value, SettingsError)
    assert isinstance(refused.value, ValueError)


def test_a_bad_webhook_url_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGRAPH_SLACK_WEBHOOK_URL", "ftp://hooks.slack.test/very-secret-token")

    with pytest.raises(OutboxSettingsError) as refused:
        OutboxSettings.from_env()

    assert "very-secret-token" not in str(refused.value)


def test_credentials_without_starttls_are_allowed_to_a_local_relay() -> None:
    settings = OutboxSettings(smtp_host="localhost", smtp_username="u", smtp_password="p")

    assert settings.smtp_starttls is False


def test_the_retry_delay_doubles_from_the_base_up_to_the_cap() -> None:
    settings = OutboxSettings(base_delay=2.0, max_delay=600.0)

    delays = [settings.backoff(attempts) for attempts in range(1, 11)]

    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 600.0]
    assert settings.backoff(10_000) == 600.0  # no float overflow after many attempts
    assert OutboxSettings(base_delay=0.0).backoff(3) == 0.0
