"""The leaky bucket: it takes a request's points or refuses them with the wait until it
holds enough, fills back at its rate up to its maximum, takes back what a request did
not use; one bucket per credential; and the settings that size it."""

from __future__ import annotations

import pytest

from domain.principal import Credential, Principal
from domain.throttle import BucketLimits, MemoryBuckets, credential_key, leaked
from gateway.cli import main
from gateway.cost_settings import CostSettings, CostSettingsError
from schema.export_cost import EXPORT_COST

LIMITS = BucketLimits(maximum=100, restore_rate=10.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_takes_points_until_it_holds_too_few_then_says_how_long_to_wait() -> None:
    clock = Clock()
    buckets = MemoryBuckets(clock)

    taken = [await buckets.draw("a", 30, LIMITS) for _ in range(3)]
    refused = await buckets.draw("a", 30, LIMITS)

    assert [draw.allowed for draw in taken] == [True, True, True]
    assert [draw.available for draw in taken] == [70, 40, 10]
    assert not refused.allowed
    assert refused.available == 10  # a refused draw takes nothing
    assert refused.retry_after == pytest.approx(2.0)  # 20 points at 10 a second


async def test_a_bucket_fills_at_its_rate_up_to_its_maximum() -> None:
    clock = Clock()
    buckets = MemoryBuckets(clock)
    await buckets.draw("a", 100, LIMITS)

    clock.now += 2.0
    assert (await buckets.draw("a", 0, LIMITS)).available == pytest.approx(20)
    clock.now += 2.0
    assert (await buckets.draw("a", 40, LIMITS)).allowed
    clock.now += 3600
    assert (await buckets.draw("a", 0, LIMITS)).available == 100


async def test_unused_points_come_back_never_past_the_maximum() -> None:
    buckets = MemoryBuckets(Clock())
    await buckets.draw("a", 80, LIMITS)

    assert (await buckets.draw("a", -50, LIMITS)).available == 70
    assert (await buckets.draw("a", -500, LIMITS)).available == 100


async def test_each_credential_has_its_own_bucket() -> None:
    buckets = MemoryBuckets(Clock())
    await buckets.draw("a", 100, LIMITS)

    assert not (await buckets.draw("a", 1, LIMITS)).allowed
    assert (await buckets.draw("b", 1, LIMITS)).allowed


async def test_buckets_that_have_filled_up_are_forgotten() -> None:
    clock = Clock()
    buckets = MemoryBuckets(clock)
    for n in range(1023):
        await buckets.draw(f"caller-{n}", 1, LIMITS)
    clock.now += 60  # all full again
    await buckets.draw("last", 1, LIMITS)  # the 1024th draw sweeps

    assert len(buckets._buckets) == 1


def test_the_arithmetic_never_waits_forever_or_goes_negative() -> None:
    left, draw = leaked(5, elapsed=-3, points=10, limits=LIMITS)  # a clock step back
    assert (left, draw.allowed, draw.retry_after) == (5, False, pytest.approx(0.5))
    left, draw = leaked(0, elapsed=0, points=0, limits=LIMITS)
    assert draw.allowed and left == 0


def principal(**values: object) -> Principal:
    base: dict[str, object] = {"tenant_id": 1, "user_id": 2, "credential": Credential.JWT}
    return Principal(**{**base, **values})  # type: ignore[arg-type]


def test_a_bucket_belongs_to_a_tokens_tenant_user_and_partner_or_a_managers_token() -> None:
    keys = {
        credential_key(principal()),
        credential_key(principal(user_id=3)),
        credential_key(principal(tenant_id=2)),
        credential_key(principal(partner_id=9)),
        credential_key(principal(credential=Credential.API_TOKEN, token_id=5, reseller_id=9)),
        credential_key(principal(credential=Credential.API_TOKEN, token_id=6, reseller_id=9)),
    }
    assert len(keys) == 6
    # The same user's two tokens share one bucket; permissions do not matter.
    assert credential_key(principal()) == credential_key(principal(permissions=frozenset({"x"})))


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"max_query_cost": 0}, "PAYGRAPH_MAX_QUERY_COST"),
        ({"throttle_maximum": 1000, "max_query_cost": 5000}, "PAYGRAPH_THROTTLE_MAXIMUM"),
        ({"throttle_maximum": EXPORT_COST - 1, "max_query_cost": 10}, "export"),
        ({"throttle_restore_rate": 0}, "PAYGRAPH_THROTTLE_RESTORE_RATE"),
        ({"redis_url": "http://cache:6379"}, "PAYGRAPH_REDIS_URL"),
        ({"redis_prefix": ""}, "PAYGRAPH_REDIS_PREFIX"),
    ],
)
def test_unusable_settings_are_refused_at_start_up(values: dict[str, object], named: str) -> None:
    with pytest.raises(CostSettingsError, match=named):
        CostSettings(**values)  # type: ignore[arg-type]


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGRAPH_MAX_QUERY_COST", "3000")
    monkeypatch.setenv("PAYGRAPH_THROTTLE_MAXIMUM", "9000")
    monkeypatch.setenv("PAYGRAPH_THROTTLE_RESTORE_RATE", "2.5")
    monkeypatch.setenv("PAYGRAPH_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("PAYGRAPH_REDIS_PREFIX", "run-1:")

    settings = CostSettings.from_env()

    assert (settings.max_query_cost, settings.limits) == (3000, BucketLimits(9000, 2.5))
    assert (settings.redis_url, settings.redis_prefix) == ("redis://127.0.0.1:6379/0", "run-1:")
    assert "redis://" not in repr(settings)
    monkeypatch.setenv("PAYGRAPH_THROTTLE_RESTORE_RATE", "fast")
    with pytest.raises(CostSettingsError, match="points per second"):
        CostSettings.from_env()


def test_paygraph_serve_refuses_a_bad_cost_setting_before_serving(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAYGRAPH_THROTTLE_MAXIMUM", "10")

    assert main(["serve"]) == 2
    assert "PAYGRAPH_THROTTLE_MAXIMUM" in capsys.readouterr().err
