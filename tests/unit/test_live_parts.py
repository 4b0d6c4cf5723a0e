"""The pure parts of live subscriptions: the change's wire text, the hub's bounded
queues, the credential in connection_init, and the settings."""

from __future__ import annotations

import asyncio

import pytest

from domain.payment_changes import HeardChange, PaymentChange
from gateway.live_connection import sent_credentials
from gateway.live_hub import LiveHub
from gateway.subscription_settings import SubscriptionSettings, SubscriptionSettingsError
from resolvers import live

SQLITE = "sqlite+aiosqlite:///./var/paygraph.db"
POSTGRES = "postgresql://postgres@127.0.0.1/paygraph"


def test_a_change_survives_its_wire_text() -> None:
    change = PaymentChange(7, 123456789012, "approve_document")
    assert PaymentChange.decode(change.encode()) == change


@pytest.mark.parametrize("text", ["", "x:1:a", "1:x:a", "1:2:", "1", "-1:2:a"])
def test_other_text_on_the_channel_is_no_change(text: str) -> None:
    assert PaymentChange.decode(text) is None


async def test_the_hub_offers_a_change_to_its_tenants_subscriptions_only() -> None:
    hub = LiveHub(queue_size=10)
    feed = hub.feed(lambda: None)
    async with feed.follow(1) as mine, feed.follow(2) as theirs:
        hub.deliver(PaymentChange(1, 10, "pay"))
        assert (await anext(mine)).change == PaymentChange(1, 10, "pay")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await anext(theirs)
    assert hub.followers == 0


async def test_a_subscription_a_whole_queue_behind_overflows_its_connection() -> None:
    overflows: list[int] = []
    hub = LiveHub(queue_size=2)
    async with hub.feed(lambda: overflows.append(1)).follow(1):
        for payment in range(3):
            hub.deliver(PaymentChange(1, payment, "pay"))
    assert overflows == [1]


def test_credentials_are_read_from_keys_in_any_case() -> None:
    assert sent_credentials({"authorization": "Bearer t"}) == ("Bearer t", None)
    assert sent_credentials({"X-API-TOKEN": "pgk_x"}) == (None, "pgk_x")
    assert sent_credentials({"Authorization": 42}) == (None, None)


def test_the_default_broker_follows_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYGRAPH_SUBSCRIPTIONS_BROKER", raising=False)
    assert SubscriptionSettings.from_env(SQLITE, None).broker == "memory"
    assert SubscriptionSettings.from_env(POSTGRES, None).broker == "postgres"
    assert SubscriptionSettings.from_env(SQLITE, "redis://x").broker == "redis"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "PAYGRAPH_SUBSCRIPTIONS_BROKER",
            "kafka",
            "PAYGRAPH_SUBSCRIPTIONS_BROKER must be one of postgres, redis, memory, not 'kafka'",
        ),
        (
            "PAYGRAPH_SUBSCRIPTIONS_BROKER",
            "postgres",
            "PAYGRAPH_SUBSCRIPTIONS_BROKER=postgres needs a PostgreSQL DATABASE_URL",
        ),
        (
            "PAYGRAPH_SUBSCRIPTION_QUEUE",
            "0",
            "PAYGRAPH_SUBSCRIPTION_QUEUE must be an integer from 1 to 100000, not '0'",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SubscriptionSettingsError) as raised:
        SubscriptionSettings.from_env(SQLITE, None)
    assert str(raised.value) == message


async def test_a_shared_read_outlives_the_subscription_that_started_it() -> None:
    heard = HeardChange(PaymentChange(1, 2, "pay"))
    reads: list[int] = []
    release = asyncio.Event()

    async def read() -> str:
        reads.append(1)
        await release.wait()
        return "the payment"

    starter = asyncio.ensure_future(live._once(heard, "key", read))
    await asyncio.sleep(0)
    other = asyncio.ensure_future(live._once(heard, "key", read))
    await asyncio.sleep(0)
    starter.cancel()  # its connection closed
    release.set()
    assert await other == "the payment"
    assert reads == [1]
