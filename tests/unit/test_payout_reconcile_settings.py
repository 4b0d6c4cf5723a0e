"""The payout reconcile's settings: the lease defaults to twice the provider's timeout,
must outlast it, and unusable values stop the server with the variable's name."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.reconcile_settings import ReconcileSettings
from gateway.settings import SettingsError


def test_the_lease_defaults_to_twice_the_providers_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AFTER", "INTERVAL", "BATCH"):
        monkeypatch.delenv(f"PAYGRAPH_PAYOUT_RECONCILE_{name}", raising=False)

    settings = ReconcileSettings.from_env(payout_timeout=3.0)

    assert (settings.after, settings.interval, settings.batch) == (6.0, 5.0, 20)
    assert settings.timing.call_timeout == timedelta(seconds=3)
    assert settings.timing.lease == timedelta(seconds=6)
    # a call is cut halfway between the timeout and the lease, before anyone else may ask
    assert settings.timing.cutoff == 4.5


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("AFTER", "3", "PAYGRAPH_PAYOUT_RECONCILE_AFTER"),  # not longer than the timeout
        ("AFTER", "3601", "PAYGRAPH_PAYOUT_RECONCILE_AFTER"),
        ("AFTER", "soon", "PAYGRAPH_PAYOUT_RECONCILE_AFTER"),
        ("INTERVAL", "-1", "PAYGRAPH_PAYOUT_RECONCILE_INTERVAL"),
        ("BATCH", "0", "PAYGRAPH_PAYOUT_RECONCILE_BATCH"),
    ],
)
def test_unusable_values_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    monkeypatch.setenv(f"PAYGRAPH_PAYOUT_RECONCILE_{name}", value)

    with pytest.raises(SettingsError) as refused:
        ReconcileSettings.from_env(payout_timeout=3.0)

    assert named in str(refused.value)
