"""The Money type: integer minor units plus their ISO 4217 currency."""

from __future__ import annotations

from typing import overload

import strawberry

from domain.money import Money as DomainMoney
from schema.field_kinds import lean
from schema.scalars import BigInt


@strawberry.type(
    description="An exact amount of money: an integer number of minor units in one currency."
)
class Money:
    amount: int = strawberry.field(
        description="Amount in minor units of the currency (cents for USD, yen for JPY).",
        graphql_type=BigInt,
    )
    currency: str = strawberry.field(description="ISO 4217 alphabetic code, e.g. `USD`.")
    precision: int = strawberry.field(
        description="Number of decimal places of the currency (its ISO 4217 exponent)."
    )
    currency_numeric: int = strawberry.field(description="ISO 4217 numeric code, e.g. 840.")
    source: strawberry.Private[DomainMoney]

    @lean("Human-readable amount with its code, e.g. `1,234.56 USD`.")
    def formatted(self) -> str:
        # Formatted only when asked for: most pages of amounts never show it.
        return self.source.format()

    @overload
    @classmethod
    def of(cls, money: DomainMoney) -> Money: ...

    @overload
    @classmethod
    def of(cls, money: DomainMoney | None) -> Money | None: ...

    @classmethod
    def of(cls, money: DomainMoney | None) -> Money | None:
        """The view of `money`; None for None."""
        if money is None:
            return None
        info = money.currency_info
        return cls(
            amount=money.amount,
            currency=money.currency,
            precision=info.exponent,
            currency_numeric=info.numeric,
            source=money,
        )


@strawberry.type(description="An amount as the partner portfolio API writes it.")
class CurrencyAmount:
    amount: int = strawberry.field(description="Minor units.", graphql_type=BigInt)
    amount_precision: int = strawberry.field(description="Decimal places of the currency.")
    currency_id: int = strawberry.field(description="ISO 4217 numeric code, e.g. 840.")


@strawberry.type(
    description="One of a payment's amounts, in the partner portfolio API's shape and as Money."
)
class PaymentAmount:
    in_payment_currency: CurrencyAmount = strawberry.field(
        description="The amount in the payment's currency (partner portfolio)."
    )
    money: Money = strawberry.field(description="The same amount as Money.")

    @overload
    @classmethod
    def of(cls, money: DomainMoney) -> PaymentAmount: ...

    @overload
    @classmethod
    def of(cls, money: DomainMoney | None) -> PaymentAmount | None: ...

    @classmethod
    def of(cls, money: DomainMoney | None) -> PaymentAmount | None:
        """The view of `money`; None for None."""
        if money is None:
            return None
        view = Money.of(money)
        shape = CurrencyAmount(
            amount=view.amount, amount_precision=view.precision, currency_id=view.currency_numeric
        )
        return cls(in_payment_currency=shape, money=view)


@strawberry.type(
    description="The partner portfolio API's `amounts`: requested, paid and settleable."
)
class PaymentAmounts:
    requested: PaymentAmount = strawberry.field(description="What was asked for.")
    paid: PaymentAmount | None = strawberry.field(description="What was paid, when known.")
    settleable: PaymentAmount | None = strawberry.field(
        description="What can be settled to the merchant, when known."
    )
