"""The environment's readers (gateway.environment): a boolean is one of a documented set
of words, a number is finite and within its bounds, a choice is one of its values; every
refusal is one line naming the variable, what it accepts and what it was given."""

from __future__ import annotations

import os
import re

import pytest

from gateway.environment import (
    FALSE_WORDS,
    TRUE_WORDS,
    SettingsError,
    env_choice,
    env_flag,
    env_int,
    env_list,
    env_seconds,
)
from gateway.settings import Settings
from tests.containers import ROOT, RecordingEnvironment, read_every_setting

NAME = "PAYGRAPH_TEST_SETTING"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings.from_env() sees only what each test sets."""
    for name in list(os.environ):
        if name.startswith("PAYGRAPH_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.mark.parametrize("word", ["true", "TRUE", "1", "yes", "Yes", "on", " on "])
def test_the_true_words_read_as_true(monkeypatch: pytest.MonkeyPatch, word: str) -> None:
    monkeypatch.setenv(NAME, word)
    assert env_flag(NAME, False) is True


@pytest.mark.parametrize("word", ["false", "False", "0", "no", "NO", "off"])
def test_the_false_words_read_as_false(monkeypatch: pytest.MonkeyPatch, word: str) -> None:
    monkeypatch.setenv(NAME, word)
    assert env_flag(NAME, True) is False


@pytest.mark.parametrize("word", ["enabled", "disabled", "2", "y", "t", "ture", "-1"])
def test_any_other_word_is_refused_naming_the_accepted_ones(
    monkeypatch: pytest.MonkeyPatch, word: str
) -> None:
    monkeypatch.setenv(NAME, word)

    with pytest.raises(SettingsError) as refused:
        env_flag(NAME, True)

    message = str(refused.value)
    assert message == (
        f"{NAME} must be true or false (or 1/0, yes/no, on/off, in any case), not {word!r}"
    )
    assert all(accepted in message for accepted in (*TRUE_WORDS, *FALSE_WORDS))


def test_an_unset_or_blank_variable_takes_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)
    assert env_flag(NAME, True) is True
    monkeypatch.setenv(NAME, "  ")
    assert env_flag(NAME, False) is False
    assert env_int(NAME, 7, minimum=1, maximum=9) == 7


@pytest.mark.parametrize(("value", "read"), [("1", 1), ("65535", 65535), (" 8000 ", 8000)])
def test_an_integer_within_its_bounds_is_read(
    monkeypatch: pytest.MonkeyPatch, value: str, read: int
) -> None:
    monkeypatch.setenv(NAME, value)
    assert env_int(NAME, 8000, minimum=1, maximum=65535) == read


@pytest.mark.parametrize("value", ["0", "65536", "99999", "-1", "80.0", "eighty", "1e3"])
def test_an_integer_outside_its_bounds_or_not_whole_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(NAME, value)

    with pytest.raises(SettingsError) as refused:
        env_int(NAME, 8000, minimum=1, maximum=65535)

    assert str(refused.value) == f"{NAME} must be an integer from 1 to 65535, not {value!r}"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "10m", ""])
def test_seconds_are_finite_numbers(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(NAME, value)
    if not value:
        assert env_seconds(NAME, 2.5) == 2.5
        return
    with pytest.raises(SettingsError, match=rf"^{NAME} must be a number of seconds, not"):
        env_seconds(NAME, 2.5)


def test_a_choice_is_one_of_its_values_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, "Production")
    assert env_choice(NAME, "development", ("development", "production")) == "production"
    monkeypatch.setenv(NAME, "prod")
    with pytest.raises(SettingsError) as refused:
        env_choice(NAME, "development", ("development", "production"))
    assert str(refused.value) == f"{NAME} must be one of development, production, not 'prod'"


def test_a_list_drops_blank_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NAME, " a, ,b ,")
    assert env_list(NAME) == ("a", "b")


def test_introspection_set_to_a_word_outside_the_set_stops_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bug: `enabled` was not in {1, true, yes, on}, so it read as false.
    monkeypatch.setenv("PAYGRAPH_INTROSPECTION", "enabled")
    with pytest.raises(SettingsError, match=r"^PAYGRAPH_INTROSPECTION must be true or false"):
        Settings.from_env()
    monkeypatch.setenv("PAYGRAPH_INTROSPECTION", "on")
    assert Settings.from_env().introspection is True


def test_every_variable_the_settings_read_is_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = RecordingEnvironment({})
    monkeypatch.setattr(os, "environ", environment)
    read_every_setting()
    ours = {name for name in environment.asked if re.fullmatch(r"PAYGRAPH_\w+|DATABASE_URL", name)}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    documented = "\n".join(page.read_text() for page in pages if page.exists())

    assert len(ours) > 60
    assert {name for name in ours if f"`{name}`" not in documented} == set()
