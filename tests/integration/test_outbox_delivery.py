"""Outbox delivery against real receivers: a local Slack-style webhook endpoint and a
local SMTP server, on SQLite and PostgreSQL.

The database is shared with other tests, and a dispatcher claims every due row of every
tenant, so each scenario asserts only on its own rows and on the messages that carry its
own marker; every scenario leaves its rows delivered or dead, never due later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from db import models as m
from db.engine import create_engine
from db.migrate import upgrade
from db.models.types import utcnow
from gateway.notifiers import LoggingNotifier, Notifiers, notifiers_from
from gateway.outbox import DispatchReport, OutboxDispatcher, OutboxSettings, dispatcher_running
from tests.backends import POSTGRESQL, POSTGRESQL_RESOLVERS, on
from tests.e2e.server import ROOT
from tests.factories import Factory, unique
from tests.forkserver import popen, run
from tests.read_paths import read_path
from tests.receivers import SlackReceiver, free_port, mail_receiver, slack_receiver

# --- helpers ------------------------------------------------------------------------------


def settings(
    slack: SlackReceiver | None = None, mail_port: int | None = None, **values: Any
) -> OutboxSettings:
    """Fast settings pointed at the local receivers (None: that channel is only logged)."""
    defaults: dict[str, Any] = {
        "slack_webhook_url": slack.url if slack else None,
        "smtp_host": "127.0.0.1" if mail_port else None,
        "smtp_port": mail_port or 25,
        "base_delay": 2.0,
        "max_attempts": 3,
        "poll_interval": 0.05,
        "send_timeout": 2.0,
    }
    return OutboxSettings(**{**defaults, **values})


def dispatcher(engine: AsyncEngine, outbox_settings: OutboxSettings) -> OutboxDispatcher:
    notifiers = notifiers_from(outbox_settings)
    return OutboxDispatcher(engine, outbox_settings, slack=notifiers.slack, mail=notifiers.mail)


def slack_payload(marker: str) -> dict[str, Any]:
    return {
        "text": f"Payment {marker} was paid",
        "channel": "#payments",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{marker}* paid"}}],
    }


def mail_payload(marker: str) -> dict[str, Any]:
    return {
        "to": "partner@example.test",
        "subject": f"Your commission {marker} was paid",
        "text": f"Hello,\nyour commission {marker} of 120,00 € was paid.\n",
        "locale": "de-DE",
    }


async def outbox_row(engine: AsyncEngine, tenant_id: int, channel: str, payload: Any) -> int:
    """A row as a mutation writes it: pending, never tried, due at once."""
    return await Factory(engine).insert(
        m.Outbox,
        tenant_id=tenant_id,
        channel=channel,
        topic="payment.paid",
        payload=payload if isinstance(payload, str) else json.dumps(payload),
        status="pending",
        attempts=0,
        next_attempt_at=None,
    )


async def state(engine: AsyncEngine, row_id: int) -> Row[Any]:
    async with engine.connect() as connection:
        result = await connection.execute(select(m.Outbox).where(m.Outbox.id == row_id))
        return result.one()


async def make_due(engine: AsyncEngine, row_id: int) -> None:
    """Time passes: the row's retry time is now behind us."""
    async with engine.begin() as connection:
        await connection.execute(
            update(m.Outbox)
            .where(m.Outbox.id == row_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def assert_backoff(row: Row[Any], seconds: float, before: datetime, after: datetime) -> None:
    assert row.next_attempt_at is not None
    delay = timedelta(seconds=seconds)
    assert before + delay <= row.next_attempt_at <= after + delay


# --- delivering ---------------------------------------------------------------------------


async def test_a_slack_notification_is_posted_as_is_and_marked_delivered(
    engine: AsyncEngine,
) -> None:
    # given a pending Slack row and a webhook that accepts it
    tenant = await Factory(engine).tenant()
    marker = unique("slack-")
    with slack_receiver() as slack:
        row_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))

        # when the dispatcher runs
        report = await dispatcher(engine, settings(slack)).run_once()

    # then the webhook got exactly the payload as JSON, once, and the row is delivered
    assert report.delivered >= 1
    assert slack.accepted(marker) == [slack_payload(marker)]
    request = next(r for r in slack.requests if r.body == slack_payload(marker))
    assert request.path == "/services/T0/B0/secret"
    assert request.content_type == "application/json"
    row = await state(engine, row_id)
    assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == (
        "delivered",
        0,
        None,
        None,
    )
    assert row.delivered_at is not None


async def test_an_email_is_sent_with_from_to_subject_and_body(engine: AsyncEngine) -> None:
    # given a pending e-mail row with an HTML part, and an SMTP server
    tenant = await Factory(engine).tenant()
    marker = unique("mail-")
    payload = {**mail_payload(marker), "html": f"<p>Commission <b>{marker}</b> paid</p>"}
    async with mail_receiver() as mail:
        row_id = await outbox_row(engine, tenant, "email", payload)
        outbox_settings = settings(mail_port=mail.port, mail_from="Acme Pay <pay@acme.test>")

        # when the dispatcher runs
        await dispatcher(engine, outbox_settings).run_once()

    # then one message went from the configured sender to the payload's recipient
    [message] = mail.messages(marker)
    envelope = next(e for e in mail.envelopes if marker.encode() in (e.content or b""))
    assert (envelope.mail_from, envelope.rcpt_tos) == ("pay@acme.test", ["partner@example.test"])
    assert message["From"] == "Acme Pay <pay@acme.test>"
    assert message["To"] == "partner@example.test"
    assert message["Subject"] == payload["subject"]
    assert message["Content-Language"] == "de-DE"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content() == payload["text"]
    assert html.get_content().strip() == payload["html"]
    assert (await state(engine, row_id)).status == "delivered"


async def test_unconfigured_channels_are_logged_and_marked_delivered(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # given no webhook and no SMTP host
    tenant = await Factory(engine).tenant()
    marker = unique("logged-")
    assert notifiers_from(OutboxSettings()) == Notifiers(
        slack=LoggingNotifier("slack"), mail=LoggingNotifier("email")
    )
    slack_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))
    mail_id = await outbox_row(engine, tenant, "email", mail_payload(marker))

    # when the dispatcher runs
    with caplog.at_level(logging.INFO, logger="paygraph.notifications"):
        await dispatcher(engine, settings()).run_once()

    # then both notifications are in the log, and their rows are done
    logged = [r.getMessage() for r in caplog.records if r.name == "paygraph.notifications"]
    assert any(line.startswith("slack notification") and marker in line for line in logged)
    assert any(line.startswith("email notification") and marker in line for line in logged)
    assert (await state(engine, slack_id)).status == "delivered"
    assert (await state(engine, mail_id)).status == "delivered"


# --- failing receivers --------------------------------------------------------------------


async def test_a_failing_webhook_is_retried_with_exponential_backoff_until_it_accepts(
    engine: AsyncEngine,
) -> None:
    # given a webhook that answers 500
    tenant = await Factory(engine).tenant()
    marker = unique("retry-")
    with slack_receiver() as slack:
        slack.status = 500
        row_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))
        worker = dispatcher(engine, settings(slack, max_attempts=5))

        # when the dispatcher tries twice
        before = utcnow()
        await worker.run_once()
        first = await state(engine, row_id)
        assert_backoff(first, 2.0, before, utcnow())
        await make_due(engine, row_id)
        before = utcnow()
        await worker.run_once()
        second = await state(engine, row_id)
        assert_backoff(second, 4.0, before, utcnow())

        # and the webhook recovers before the third
        slack.status = 200
        await make_due(engine, row_id)
        await worker.run_once()

    # then the row was retried after each failure with a doubled delay, then delivered
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error == "DeliveryError: Slack webhook answered HTTP 500: internal_error"
    assert (second.status, second.attempts) == ("pending", 2)
    assert slack.accepted(marker) == [slack_payload(marker)]
    assert sum(marker in str(r.body) for r in slack.requests) == 3
    final = await state(engine, row_id)
    assert (final.status, final.attempts, final.next_attempt_at) == ("delivered", 2, None)
    assert final.delivered_at is not None


async def test_an_unreachable_smtp_server_is_tried_again_once_it_listens(
    engine: AsyncEngine,
) -> None:
    # given an e-mail row and an SMTP port where nothing listens yet
    tenant = await Factory(engine).tenant()
    marker = unique("down-")
    port = free_port()
    row_id = await outbox_row(engine, tenant, "email", mail_payload(marker))
    worker = dispatcher(engine, settings(mail_port=port))

    # when the dispatcher runs
    before = utcnow()
    report = await worker.run_once()

    # then the attempt is counted and the next one scheduled
    assert report.retried >= 1
    row = await state(engine, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("DeliveryError: SMTP 127.0.0.1:")
    assert "ConnectionRefusedError" in row.last_error
    assert_backoff(row, 2.0, before, utcnow())

    # when the server comes up and the retry is due
    async with mail_receiver(port) as mail:
        await make_due(engine, row_id)
        await worker.run_once()

    # then the message is delivered
    assert len(mail.messages(marker)) == 1
    assert (await state(engine, row_id)).status == "delivered"


async def test_a_notification_is_dead_lettered_after_the_last_attempt(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # given a webhook that always fails, two attempts at most and no delay between them
    tenant = await Factory(engine).tenant()
    marker = unique("dead-")
    with slack_receiver() as slack:
        slack.status = 500
        row_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))
        worker = dispatcher(engine, settings(slack, max_attempts=2, base_delay=0.0))

        # when the dispatcher runs three times
        with caplog.at_level(logging.WARNING, logger="paygraph.outbox"):
            await worker.run_once()
            after_first = await state(engine, row_id)
            await worker.run_once()
            await worker.run_once()

    # then the second failure is the last: the row is dead, logged as an error, not retried
    assert (after_first.status, after_first.attempts) == ("pending", 1)
    row = await state(engine, row_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 2, None)
    assert "HTTP 500" in row.last_error
    assert sum(marker in str(r.body) for r in slack.requests) == 2
    records = [r for r in caplog.records if f"outbox row {row_id} " in r.getMessage()]
    assert [r.levelname for r in records] == ["WARNING", "ERROR"]
    assert "is dead after 2 attempt(s): DeliveryError" in records[-1].getMessage()


async def test_a_payload_that_can_never_be_sent_is_dead_lettered_at_once(
    engine: AsyncEngine,
) -> None:
    # given rows no notifier can send: broken JSON, an e-mail without a recipient, and one
    # whose subject would smuggle in a header
    tenant = await Factory(engine).tenant()
    broken = await outbox_row(engine, tenant, "slack", '{"text": "unterminated')
    incomplete = await outbox_row(engine, tenant, "email", {"subject": "s", "text": "t"})
    injected = {**mail_payload("x"), "subject": "Paid\r\nBcc: everyone@example.test"}
    smuggling = await outbox_row(engine, tenant, "email", injected)

    # when the dispatcher runs (the channels are configured: SMTP would be refused)
    await dispatcher(engine, settings(mail_port=free_port(), max_attempts=8)).run_once()

    # then each is dead after one attempt, with its reason
    for row_id, reason in [
        (broken, "invalid notification: "),
        (incomplete, "needs to, subject and text: ['to']"),
        (smuggling, "header is malformed"),
    ]:
        row = await state(engine, row_id)
        assert (row.status, row.attempts) == ("dead", 1)
        assert reason in row.last_error


async def test_a_row_for_a_channel_this_version_does_not_know_is_retried_not_dropped(
    engine: AsyncEngine,
) -> None:
    # given a row for a channel a newer release may have added
    tenant = await Factory(engine).tenant()
    row_id = await outbox_row(engine, tenant, "sms", {"text": unique("sms-")})

    # when this release's dispatcher runs
    await dispatcher(engine, settings()).run_once()

    # then the row waits for a release that knows the channel, as a failed attempt
    row = await state(engine, row_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "no notifier for channel 'sms'"
    async with engine.begin() as connection:  # no later test's dispatcher retries it
        await connection.execute(
            update(m.Outbox).where(m.Outbox.id == row_id).values(status="dead")
        )


# --- several dispatchers ------------------------------------------------------------------


async def test_two_dispatchers_draining_the_same_rows_deliver_each_once(
    engine: AsyncEngine, database_url: str
) -> None:
    # given twelve due rows and two dispatchers, each with its own connection pool, that
    # claim three rows at a time from a slightly slow webhook
    tenant = await Factory(engine).tenant()
    marker = unique("pair-")
    second_engine = create_engine(database_url)
    try:
        with slack_receiver() as slack:
            slack.delay = 0.01
            ids = [
                await outbox_row(engine, tenant, "slack", slack_payload(f"{marker}-{n:02d}"))
                for n in range(12)
            ]
            outbox_settings = settings(slack, batch_size=3)

            # when both drain at the same time
            reports = await asyncio.gather(
                dispatcher(engine, outbox_settings).drain(),
                dispatcher(second_engine, outbox_settings).drain(),
            )
    finally:
        await second_engine.dispose()

    # then every row was posted exactly once, by one or the other, and is delivered
    posted = sorted(body["text"] for body in slack.accepted(marker))
    assert posted == sorted(slack_payload(f"{marker}-{n:02d}")["text"] for n in range(12))
    assert all(report.delivered > 0 for report in reports)  # both took a share
    assert {(await state(engine, row_id)).status for row_id in ids} == {"delivered"}


# Row locks are PostgreSQL's; SQLite has a single writer.
@pytest.mark.parametrize("database_url", on(POSTGRESQL, POSTGRESQL_RESOLVERS), indirect=True)
async def test_a_row_locked_by_another_claim_is_skipped_without_waiting(
    engine: AsyncEngine,
) -> None:
    # given two due rows, one of them locked by another dispatcher's open claim
    tenant = await Factory(engine).tenant()
    marker = unique("locked-")
    with slack_receiver() as slack:
        locked = await outbox_row(engine, tenant, "slack", slack_payload(f"{marker}-a"))
        free = await outbox_row(engine, tenant, "slack", slack_payload(f"{marker}-b"))
        worker = dispatcher(engine, settings(slack))
        async with engine.connect() as other, other.begin():
            lock = select(m.Outbox.id).where(m.Outbox.id == locked).with_for_update()
            await other.execute(lock)

            # when a dispatcher runs meanwhile
            await asyncio.wait_for(worker.run_once(), timeout=5)
            locked_meanwhile = await state(engine, locked)

        # then it sent the free row only; the locked one waits for the next run
        assert [b["text"] for b in slack.accepted(marker)] == [f"Payment {marker}-b was paid"]
        assert (await state(engine, free)).status == "delivered"
        assert (locked_meanwhile.status, locked_meanwhile.attempts) == ("pending", 0)
        await worker.run_once()
    assert (await state(engine, locked)).status == "delivered"


# --- claims and leases (a recording notifier, to act while a row is in flight) ---------


@dataclass
class RecordingNotifier:
    """Sends nothing: records each payload, then runs `while_sending` for it."""

    while_sending: Callable[[dict[str, Any]], Awaitable[None]] | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, payload: dict[str, Any]) -> None:
        self.sent.append(payload)
        if self.while_sending is not None:
            await self.while_sending(payload)

    def texts(self, marker: str) -> list[str]:
        return [p["text"] for p in self.sent if marker in str(p.get("text"))]


def recording_dispatcher(engine: AsyncEngine, notifier: RecordingNotifier) -> OutboxDispatcher:
    return OutboxDispatcher(engine, settings(), slack=notifier, mail=notifier)


async def test_rows_are_sent_oldest_first(engine: AsyncEngine) -> None:
    # given three rows written one after another
    tenant = await Factory(engine).tenant()
    marker = unique("order-")
    for n in range(3):
        await outbox_row(engine, tenant, "slack", slack_payload(f"{marker}-{n}"))
    notifier = RecordingNotifier()

    # when one dispatcher sends them
    await recording_dispatcher(engine, notifier).run_once()

    # then in the order they were written
    assert notifier.texts(marker) == [slack_payload(f"{marker}-{n}")["text"] for n in range(3)]


async def test_stopping_mid_batch_hands_the_unsent_rows_back(engine: AsyncEngine) -> None:
    # given three due rows, and a stop request that arrives while the first is sent
    tenant = await Factory(engine).tenant()
    marker = unique("stop-")
    ids = [
        await outbox_row(engine, tenant, "slack", slack_payload(f"{marker}-{n}")) for n in range(3)
    ]
    stop = asyncio.Event()

    async def stop_at_ours(payload: dict[str, Any]) -> None:
        if marker in str(payload.get("text")):
            stop.set()

    notifier = RecordingNotifier(stop_at_ours)

    # when the dispatcher drains until stopped
    await recording_dispatcher(engine, notifier).drain(stop)

    # then the first row is delivered and the others are due again, untried, for anyone
    assert len(notifier.texts(marker)) == 1
    first, *rest = [await state(engine, row_id) for row_id in ids]
    assert first.status == "delivered"
    assert [(r.status, r.attempts, r.next_attempt_at) for r in rest] == [("pending", 0, None)] * 2
    await recording_dispatcher(engine, RecordingNotifier()).run_once()
    assert {(await state(engine, row_id)).status for row_id in ids} == {"delivered"}


async def test_a_dispatcher_whose_lease_ran_out_leaves_the_outcome_to_the_new_claimant(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    # given a row that another dispatcher claims anew while this one is still sending it
    # (as if this one had stalled past its lease)
    tenant = await Factory(engine).tenant()
    marker = unique("lease-")
    row_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))
    other_lease = utcnow() + timedelta(minutes=5)

    async def claimed_by_another(payload: dict[str, Any]) -> None:
        if marker in str(payload.get("text")):
            async with engine.begin() as connection:
                await connection.execute(
                    update(m.Outbox)
                    .where(m.Outbox.id == row_id)
                    .values(next_attempt_at=other_lease)
                )

    # when this dispatcher's send succeeds
    with caplog.at_level(logging.WARNING, logger="paygraph.outbox"):
        await recording_dispatcher(engine, RecordingNotifier(claimed_by_another)).run_once()

    # then it writes nothing over the other claim, and says so
    row = await state(engine, row_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, other_lease)
    assert any(
        f"outbox row {row_id} " in r.getMessage() and "lease ran out" in r.getMessage()
        for r in caplog.records
    )
    await make_due(engine, row_id)  # the other dispatcher's turn, played here
    await recording_dispatcher(engine, RecordingNotifier()).run_once()
    assert (await state(engine, row_id)).status == "delivered"


# --- running in the background ------------------------------------------------------------


async def test_a_running_dispatcher_delivers_new_rows_and_stops_on_exit(
    engine: AsyncEngine,
) -> None:
    # given a dispatcher running in the background, as in the server's lifespan
    tenant = await Factory(engine).tenant()
    marker = unique("background-")
    with slack_receiver() as slack:
        async with dispatcher_running(engine, settings(slack)) as running:
            assert isinstance(running, OutboxDispatcher)
            # when a mutation writes a row
            row_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))
            # then it is delivered within a few poll intervals
            deadline = time.monotonic() + 5
            while (await state(engine, row_id)).status != "delivered":
                assert time.monotonic() < deadline, "not delivered within 5 s"
                await asyncio.sleep(0.02)
        background = [t for t in asyncio.all_tasks() if t.get_name() == "paygraph-outbox"]
    assert slack.accepted(marker) == [slack_payload(marker)]
    assert background == []  # stopped and awaited on exit


async def test_outbox_run_once_delivers_what_is_due_and_prints_the_counts(
    engine: AsyncEngine, database_url: str
) -> None:
    # given a due row and the environment a deployment would set
    tenant = await Factory(engine).tenant()
    marker = unique("cli-")
    with slack_receiver() as slack:
        row_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))
        env = {
            "DATABASE_URL": database_url,
            "PAYGRAPH_SLACK_WEBHOOK_URL": slack.url,
            **read_path(database_url).environment(),
        }

        # when `paygraph outbox run --once` runs
        done = await asyncio.to_thread(paygraph, ["outbox", "run", "--once"], env)

    # then it delivered the row, printed the counts, and exited 0
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("delivered ")
    assert "retried 0, dead 0" in done.stdout
    assert slack.accepted(marker) == [slack_payload(marker)]
    assert (await state(engine, row_id)).status == "delivered"


async def test_outbox_run_delivers_until_sigterm(tmp_path: Path) -> None:
    # given `paygraph outbox run` running (on one backend: the loop and its signals are
    # the same on both)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}"
    engine = create_engine(database_url)
    await upgrade(engine)
    tenant = await Factory(engine).tenant()
    marker = unique("sigterm-")
    try:
        with slack_receiver() as slack:
            env = {
                "DATABASE_URL": database_url,
                "PAYGRAPH_SLACK_WEBHOOK_URL": slack.url,
                "PAYGRAPH_OUTBOX_POLL_INTERVAL": "0.05",
            }
            process = popen(
                [sys.executable, "-m", "gateway.cli", "outbox", "run"], cwd=ROOT,
                env=outbox_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                # when a row is written, then it is delivered
                row_id = await outbox_row(engine, tenant, "slack", slack_payload(marker))
                deadline = time.monotonic() + 15
                while (await state(engine, row_id)).status != "delivered":
                    assert process.poll() is None, process.communicate()[0]
                    assert time.monotonic() < deadline, "not delivered within 15 s"
                    await asyncio.sleep(0.05)
            finally:
                # and when it is asked to stop, it stops cleanly
                process.send_signal(signal.SIGTERM)
                output = await asyncio.to_thread(process.communicate, timeout=10)
    finally:
        await engine.dispose()
    assert process.returncode == 0, output[0]
    assert "outbox dispatcher started" in output[0]
    assert slack.accepted(marker) == [slack_payload(marker)]


def outbox_env(values: dict[str, str]) -> dict[str, str]:
    """This process's environment without outbox settings, plus `values`."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PAYGRAPH_SMTP", "PAYGRAPH_SLACK", "PAYGRAPH_OUTBOX"))
    }
    return {**inherited, "PYTHONUNBUFFERED": "1", **values}


def paygraph(args: list[str], values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT, env=outbox_env(values), timeout=60,
    )  # fmt: skip


def test_a_report_adds_up() -> None:
    total = DispatchReport(delivered=2, retried=1) + DispatchReport(retried=1, dead=3)
    assert total == DispatchReport(delivered=2, retried=2, dead=3)
    assert total.handled == 7
