"""The exports' settings and their per-credential and overall caps."""

from __future__ import annotations

import pytest

from domain.principal import Credential, Principal
from gateway.export_settings import ExportSettings, ExportSettingsError
from gateway.export_slots import ExportSlots, credential_key


def test_the_defaults_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ExportSettings.from_env() == ExportSettings(4, 30.0, 2)

    monkeypatch.setenv("PAYGRAPH_EXPORT_CONNECTIONS", "1")
    monkeypatch.setenv("PAYGRAPH_EXPORT_SEND_TIMEOUT", "2.5")

    # one connection: one export per credential unless told otherwise
    assert ExportSettings.from_env() == ExportSettings(1, 2.5, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYGRAPH_EXPORT_CONNECTIONS", "0"),
        ("PAYGRAPH_EXPORT_CONNECTIONS", "101"),
        ("PAYGRAPH_EXPORT_CONNECTIONS", "four"),
        ("PAYGRAPH_EXPORT_SEND_TIMEOUT", "0"),
        ("PAYGRAPH_EXPORT_SEND_TIMEOUT", "inf"),
        ("PAYGRAPH_EXPORT_SEND_TIMEOUT", "601"),
        ("PAYGRAPH_EXPORTS_PER_CREDENTIAL", "0"),
        ("PAYGRAPH_EXPORTS_PER_CREDENTIAL", "5"),  # more than the pool
    ],
)
def test_unusable_values_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ExportSettingsError, match=name):
        ExportSettings.from_env()


def user(user_id: int, partner_id: int | None = None) -> Principal:
    return Principal(tenant_id=1, user_id=user_id, credential=Credential.JWT, partner_id=partner_id)


def test_a_credential_takes_at_most_its_share_and_all_at_most_the_pool() -> None:
    slots = ExportSlots(overall=3, per_credential=2)
    ana, ben, carla = user(1), user(2), user(3)

    first, second = slots.take(ana), slots.take(ana)
    assert first is not None and second is not None
    assert slots.take(ana) is None  # ana's third
    assert slots.take(ben) is not None
    assert slots.take(carla) is None  # the pool's size reached
    assert slots.running == 3

    first.release()
    first.release()  # twice is harmless
    assert slots.running == 2
    assert slots.take(carla) is not None
    assert slots.take(ana) is None  # the pool is full again


def test_credentials_are_told_apart_by_user_partner_and_kind() -> None:
    manager = Principal(tenant_id=1, user_id=1, credential=Credential.API_TOKEN, reseller_id=5)
    keys = {credential_key(p) for p in (user(1), user(1, partner_id=9), user(2), manager)}
    assert len(keys) == 4
    assert credential_key(user(1)) == credential_key(user(1))
