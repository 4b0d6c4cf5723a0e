"""KeptPerObject: a value is worked out once per (object, key), by identity, for the
most recently used entries."""

from __future__ import annotations

from domain.kept import KeptPerObject


def test_a_value_is_made_once_per_object_and_key() -> None:
    kept: KeptPerObject[int] = KeptPerObject(4)
    made: list[str] = []
    first, second = ["document"], ["document"]  # equal, but two objects

    def make(name: str, value: int):
        return lambda: made.append(name) or value

    assert kept.get_or_make(first, "rules", make("first", 1)) == 1
    assert kept.get_or_make(first, "rules", make("again", 9)) == 1
    assert kept.get_or_make(second, "rules", make("second", 2)) == 2
    assert kept.get_or_make(first, "other rules", make("other", 3)) == 3
    assert made == ["first", "second", "other"]


def test_the_least_recently_used_entry_goes_first() -> None:
    kept: KeptPerObject[str] = KeptPerObject(2)
    a, b, c = object(), object(), object()
    kept.get_or_make(a, None, lambda: "a")
    kept.get_or_make(b, None, lambda: "b")
    kept.get_or_make(a, None, lambda: "a again")  # a is now the most recent
    kept.get_or_make(c, None, lambda: "c")  # b goes
    assert kept.get_or_make(a, None, lambda: "a made again") == "a"
    assert kept.get_or_make(b, None, lambda: "b made again") == "b made again"
