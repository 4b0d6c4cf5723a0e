"""Currency conversion at a stored FX rate, in exact integer arithmetic.

A rate says how many units of its quote currency one unit of its base currency buys
(`rate_value / 10**rate_scale`). Converting `amount` minor units works on fractions of
integers throughout and rounds once, half to even, at the end: no float ever sees money.
A rate stored the other way round (quote -> base) converts by dividing.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain import entities as e
from domain.currencies import currency
from domain.money import Money


@dataclass(frozen=True, slots=True)
class Conversion:
    original: Money
    converted: Money
    rate: e.FxRate

    @property
    def units_per_unit(self) -> Fraction:
        """Target currency units per unit of the original currency, as applied."""
        return units_per_unit(self.rate, self.original.currency, self.converted.currency)


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
    factor = units_per_unit(rate, amount.currency, target)
    source_exponent = amount.precision
    target_exponent = currency(target).exponent
    exact = Fraction(amount.amount) * factor * Fraction(10**target_exponent, 10**source_exponent)
    return Conversion(amount, Money(round(exact), target), rate)
