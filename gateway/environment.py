"""Reading the environment: every PAYGRAPH_* variable and DATABASE_URL go through these
typed readers, which refuse a bad value with one line naming the variable, the values it
accepts and what it was given.

A reader never guesses: a boolean is one of FLAG_WORDS (so `PAYGRAPH_INTROSPECTION=enabled`
is refused, where a truthiness test turned introspection off), a number is finite and
within its bounds (so `PAYGRAPH_PORT=99999` is refused, where the OS bound a random
port). The settings dataclasses (gateway.settings and its neighbours) read through here
and check what spans several variables in their own `__post_init__`."""

from __future__ import annotations

import math
import os

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
FLAG_WORDS = (*TRUE_WORDS, *FALSE_WORDS)
# Here rather than in gateway.settings: `paygraph` bounds its --port and --workers flags
# with them before it loads anything heavier. Each worker holds its own pool of 20
# connections (db.engine.POOL_SIZE): 32 of them already ask PostgreSQL for 640, six
# times its default max_connections.
MAX_WORKERS = 32
PORTS = range(1, 65536)  # what a TCP port can be; 0 would bind a random one


class SettingsError(ValueError):
    """A setting is unusable. Its text is one line naming the variable and what it
    accepts; the CLI prints it as it is."""


def env_text(name: str) -> str | None:
    """The variable's value, stripped; None when unset or blank."""
    return os.environ.get(name, "").strip() or None


def env_flag(name: str, default: bool, *, error: type[SettingsError] = SettingsError) -> bool:
    """true/1/yes/on or false/0/no/off, in any case; anything else is refused."""
    value = env_text(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    pairs = ", ".join(
        f"{yes}/{no}" for yes, no in zip(TRUE_WORDS[1:], FALSE_WORDS[1:], strict=True)
    )
    raise error(f"{name} must be true or false (or {pairs}, in any case), not {value!r}")


def env_choice(
    name: str, default: str, choices: tuple[str, ...], *, error: type[SettingsError] = SettingsError
) -> str:
    """One of `choices` (compared in lower case)."""
    value = (env_text(name) or default).lower()
    if value not in choices:
        raise error(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    error: type[SettingsError] = SettingsError,
) -> int:
    """A whole number, within [minimum, maximum] when given."""
    value = env_text(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not _within(number, minimum, maximum):
        raise error(f"{name} must be an integer{_bounds(minimum, maximum)}, not {value!r}")
    return number


def env_number(
    name: str,
    default: float,
    *,
    unit: str,
    minimum: float | None = None,
    maximum: float | None = None,
    error: type[SettingsError] = SettingsError,
) -> float:
    """A finite number of `unit`s, within [minimum, maximum] when given: `nan` and `inf`
    are refused like `10m`."""
    value = env_text(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not _within(number, minimum, maximum):
        raise error(f"{name} must be a number of {unit}{_bounds(minimum, maximum)}, not {value!r}")
    return number


def env_seconds(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    error: type[SettingsError] = SettingsError,
) -> float:
    """A finite number of seconds."""
    return env_number(name, default, unit="seconds", minimum=minimum, maximum=maximum, error=error)


def env_list(name: str, default: str = "") -> tuple[str, ...]:
    """A comma-separated list, each item stripped, empty items dropped."""
    return tuple(item.strip() for item in os.environ.get(name, default).split(",") if item.strip())


def _within(number: float, minimum: float | None, maximum: float | None) -> bool:
    return (minimum is None or number >= minimum) and (maximum is None or number <= maximum)


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f" of at least {minimum:g}"
    if maximum is not None:
        return f" of at most {maximum:g}"
    return ""
