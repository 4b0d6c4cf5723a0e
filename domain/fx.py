"""Currency conversion at stored FX rates, in exact integer arithmetic.

A rate says how many units of its quote currency one unit of its base currency buys
(`rate_value / 10**rate_scale`). A rate stored the other way round (quote -> base)
converts by dividing. Converting `amount` minor units works on fractions of integers
throughout and rounds once, half to even, at the end: no float ever sees money.

A conversion takes the direct rate between the two currencies when there is one;
otherwise it goes through the tenant's base currency in two legs (paid currency -> base,
base -> target), each found as a direct one is (the latest on or before the date, stored
either way round). The legs' rates multiply exactly, so the amount in the base currency
is never rounded: only the final amount is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Protocol

from domain import entities as e
from domain.currencies import currency
from domain.money import Money


@dataclass(frozen=True, slots=True)
class Leg:
    """One step of a conversion: `rate` applied from `source` to `target`."""

    source: str
    target: str
    rate: e.FxRate

    @property
    def units_per_unit(self) -> Fraction:
        return units_per_unit(self.rate, self.source, self.target)


@dataclass(frozen=True, slots=True)
class Conversion:
    original: Money
    converted: Money
    legs: tuple[Leg, ...]  # one (direct) or two (through the base currency), in order

    @property
    def rate_ids(self) -> tuple[int, ...]:
        return tuple(leg.rate.id for leg in self.legs)

    @property
    def units_per_unit(self) -> Fraction:
        """Target currency units per unit of the original currency, as applied."""
        return units_along(self.legs)


@dataclass(frozen=True, slots=True)
class Route:
    """How to get from `source` to `target` on a date: its legs, or none when a rate is
    missing (`missing` names the pairs without one). `via` is the base currency a
    conversion without a direct rate went (or tried to go) through."""

    source: str
    target: str
    legs: tuple[Leg, ...] = ()
    via: str | None = None
    missing: tuple[tuple[str, str], ...] = ()


class RateSource(Protocol):
    async def fx_rate(self, source: str, target: str, on: date) -> e.FxRate | None:
        """The latest rate effective on or before `on` between the two currencies,
        stored either way round."""
        ...

    async def base_currency(self) -> str:
        """The tenant's base currency, which conversions without a direct rate cross."""
        ...


async def find_route(rates: RateSource, source: str, target: str, on: date) -> Route:
    """The direct rate from `source` to `target` effective on `on`; without one, the two
    legs through the tenant's base currency, each effective on `on`."""
    direct = await rates.fx_rate(source, target, on)
    if direct is not None:
        return Route(source, target, (Leg(source, target, direct),))
    base = await rates.base_currency()
    if base in (source, target):  # the direct rate was the only way
        return Route(source, target, missing=((source, target),))
    first = await rates.fx_rate(source, base, on)
    second = await rates.fx_rate(base, target, on)
    if first is None or second is None:
        pairs = (((source, base), first), ((base, target), second))
        missing = tuple(pair for pair, rate in pairs if rate is None)
        return Route(source, target, via=base, missing=missing)
    return Route(source, target, (Leg(source, base, first), Leg(base, target, second)), via=base)


def rate_fraction(rate: e.FxRate) -> Fraction:
    return Fraction(rate.rate_value, 10**rate.rate_scale)


def units_per_unit(rate: e.FxRate, source: str, target: str) -> Fraction:
    if (rate.base_currency, rate.quote_currency) == (source, target):
        return rate_fraction(rate)
    if (rate.base_currency, rate.quote_currency) == (target, source):
        return 1 / rate_fraction(rate)
    raise ValueError(f"rate {rate.id} does not convert {source} to {target}")


def convert(amount: Money, target: str, rate: e.FxRate) -> Conversion:
    """`amount` in `target` at `rate`, rounded half to even to the target's minor unit."""
    return convert_along(amount, (Leg(amount.currency, target, rate),))


def convert_along(amount: Money, legs: Sequence[Leg]) -> Conversion:
    """`amount` carried along `legs`, each starting where the one before ended, at the
    product of their rates; rounded half to even once, to the last currency's minor
    unit (the currencies in between are never rounded)."""
    if not legs:
        raise ValueError("a conversion needs at least one leg")
    reached = amount.currency
    for leg in legs:
        if leg.source != reached:
            raise ValueError(f"leg {leg.source} -> {leg.target} does not start at {reached}")
        reached = leg.target
    source_exponent = amount.precision
    target_exponent = currency(reached).exponent
    exact = (
        Fraction(amount.amount)
        * units_along(legs)
        * Fraction(10**target_exponent, 10**source_exponent)
    )
    return Conversion(amount, Money(round(exact), reached), tuple(legs))


def units_along(legs: Sequence[Leg]) -> Fraction:
    """Units of the last leg's target per unit of the first leg's source: exact."""
    factor = Fraction(1)
    for leg in legs:
        factor *= leg.units_per_unit
    return factor
