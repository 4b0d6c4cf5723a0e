"""The Money type: integer minor units plus their ISO 4217 currency."""

from __future__ import annotations

import strawberry

from domain.money import Money as DomainMoney
from schema.scalars import BigInt


@strawberry.type(
    description="An exact amount of money: an integer number of minor units in one currency."
)
class Money:
    amount: BigInt = strawberry.field(
        description="Amount in minor units of the currency (cents for USD, yen for JPY)."
    )
    currency: str = strawberry.field(description="ISO 4217 alphabetic code, e.g. `USD`.")
    precision: int = strawberry.field(
        description="Number of decimal places of the currency (its ISO 4217 exponent)."
    )
    currency_numeric: int = strawberry.field(description="ISO 4217 numeric code, e.g. 840.")
    formatted: str = strawberry.field(
        description="Human-readable amount with its code, e.g. `1,234.56 USD`."
    )

    @classmethod
    def of(cls, money: DomainMoney | None) -> Money | None:
        if money is None:
            return None
        info = money.currency_info
        return cls(
            amount=money.amount,
            currency=money.currency,
            precision=info.exponent,
            currency_numeric=info.numeric,
            formatted=money.format(),
        )
