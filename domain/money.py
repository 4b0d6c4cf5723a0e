"""Money: an integer number of minor units in one ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass

from domain.currencies import Currency, currency
from domain.errors import BadUserInput, CurrencyMismatch

# PostgreSQL BIGINT, and what a JavaScript client can still hold exactly as a string.
MAX_MINOR_UNITS = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; a True amount is a bug, not a cent.
        if type(self.amount) is not int:
            raise BadUserInput("Money amounts are integers in minor units.", field="amount")
        if abs(self.amount) > MAX_MINOR_UNITS:
            raise BadUserInput("Amount is outside the 64-bit range.", field="amount")
        # Canonical upper-case code, so `usd` and `USD` are one currency.
        object.__setattr__(self, "currency", currency(self.currency).code)

    @property
    def currency_info(self) -> Currency:
        return currency(self.currency)

    @property
    def precision(self) -> int:
        return self.currency_info.exponent

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def format(self) -> str:
        """`1,234.56 USD`, `1,000 JPY`, `-0.005 KWD`: exact, locale-independent."""
        exponent = self.precision
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**exponent)
        text = f"{major:,}"
        if exponent:
            text += f".{minor:0{exponent}d}"
        return f"{sign}{text} {self.currency}"
