"""Aggregates over payment lists: `aggregate { count sum avg min max }` and `groupBy`,
measured by SQL over exactly the rows the list would show (the caller's scope, the
list's parent and filter), never by a loop over pages of rows.

Money is never summed across currencies: every measure is a list with one entry per
currency (one entry when the group's keys include the currency).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from domain import aggregates as a
from domain import entities as e
from domain import read_catalog as catalog
from domain.money import Money as DomainMoney
from domain.paging import CountKey, Page
from resolvers.relations import load_one
from schema.compiled_plan import AGGREGATE, GROUPS
from schema.enums import PaymentKind, PaymentStatus
from schema.field_decorators import field
from schema.fields import Info
from schema.money import Money

if TYPE_CHECKING:
    from schema.types.parties import Merchant, Terminal

MerchantRef = Annotated["Merchant", strawberry.lazy("schema.types.parties")]
TerminalRef = Annotated["Terminal", strawberry.lazy("schema.types.parties")]

PaymentGroupKey = a.GroupKey
strawberry.enum(
    PaymentGroupKey,
    name="PaymentGroupKey",
    description=(
        "What payments can be grouped by. DAY and MONTH are the UTC day and month of `createdAt`."
    ),
)

DEFAULT_GROUPS = 50


def measured_money(amount: int | None, currency: str) -> Money | None:
    """A measured amount as Money; AMOUNT_OUT_OF_RANGE beyond BigInt's 64 bits."""
    amount = a.within_range(amount)
    return None if amount is None else Money.of(DomainMoney(amount, currency))


@strawberry.type(
    description=(
        "One measure (a sum, average, minimum or maximum) of a list's money fields, over "
        "its payments in one currency. A field is null when no payment had a value for it "
        "(paid and settleable amounts may be unknown)."
    )
)
class CurrencyMeasure:
    currency: str = strawberry.field(description="ISO 4217 code.")
    count: int = strawberry.field(description="Payments in this currency.")
    amount: Money | None = strawberry.field(description="Of the requested amounts.")
    paid_amount: Money | None = strawberry.field(description="Of the paid amounts.")
    settleable_amount: Money | None = strawberry.field(description="Of the settleable amounts.")


def _measure(group: a.Group, pick: Any) -> list[CurrencyMeasure]:
    return [
        CurrencyMeasure(
            currency=measures.currency,
            count=measures.count,
            amount=measured_money(pick(measures.of("amount")), measures.currency),
            paid_amount=measured_money(pick(measures.of("paid_amount")), measures.currency),
            settleable_amount=measured_money(
                pick(measures.of("settleable_amount")), measures.currency
            ),
        )
        for measures in group.currencies
    ]


@strawberry.type(
    description=(
        "Measures of a list of payments. Sums, averages, minima and maxima come per "
        "currency; an average is in minor units, rounded half to even."
    )
)
class PaymentAggregate:
    group: strawberry.Private[a.Group]

    @field(description="Payments measured, all currencies together.")
    def count(self) -> int:
        return self.group.count

    @field(description="Totals, per currency.")
    def sum(self) -> list[CurrencyMeasure]:
        return _measure(self.group, lambda m: m.sum)

    @field(description="Means in minor units (half to even), per currency.")
    def avg(self) -> list[CurrencyMeasure]:
        return _measure(self.group, lambda m: m.avg)

    @field(description="Smallest values, per currency.")
    def min(self) -> list[CurrencyMeasure]:
        return _measure(self.group, lambda m: m.min)

    @field(description="Largest values, per currency.")
    def max(self) -> list[CurrencyMeasure]:
        return _measure(self.group, lambda m: m.max)


@strawberry.type(description="The key values of a group; keys not grouped by are null.")
class PaymentGroupKeys:
    values: strawberry.Private[dict[a.GroupKey, Any]]

    @field(
        description="The merchant (MERCHANT); null for payments without one.",
        graphql_type=MerchantRef | None,
    )
    async def merchant(self, info: Info) -> e.Merchant | None:
        loader = info.context.loaders.of(catalog.MERCHANT_BY_ID)
        return await load_one(loader, self.values.get(a.GroupKey.MERCHANT))

    @field(
        description="The terminal (TERMINAL); null for payments without one.",
        graphql_type=TerminalRef | None,
    )
    async def terminal(self, info: Info) -> e.Terminal | None:
        loader = info.context.loaders.of(catalog.TERMINAL_BY_ID)
        return await load_one(loader, self.values.get(a.GroupKey.TERMINAL))

    @field(description="ISO 4217 code (CURRENCY).")
    def currency(self) -> str | None:
        return self.values.get(a.GroupKey.CURRENCY)

    @field(description="Status (STATUS).")
    def status(self) -> PaymentStatus | None:
        return self.values.get(a.GroupKey.STATUS)

    @field(description="Lifecycle (KIND).")
    def kind(self) -> PaymentKind | None:
        return self.values.get(a.GroupKey.KIND)

    @field(description="UTC day of creation (DAY).")
    def day(self) -> date | None:
        return self.values.get(a.GroupKey.DAY)

    @field(description="UTC month of creation as `YYYY-MM` (MONTH).")
    def month(self) -> str | None:
        return self.values.get(a.GroupKey.MONTH)


@strawberry.type(description="Payments sharing the same key values, with their measures.")
class PaymentGroup(PaymentAggregate):
    @field(description="The values this group's payments share.")
    def keys(self) -> PaymentGroupKeys:
        return PaymentGroupKeys(values=dict(self.group.keys))


@strawberry.type(description="A page of groups, in key order (nulls last).")
class PaymentGroupPage:
    nodes: list[PaymentGroup] = strawberry.field(description="The groups of this page.")
    has_next_page: bool = strawberry.field(description="More groups follow.")
    has_previous_page: bool = strawberry.field(description="Groups precede this page.")

    @classmethod
    def of(cls, page: Page[a.Group]) -> PaymentGroupPage:
        return cls(
            nodes=[PaymentGroup(group=group) for group in page.items],
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
        )


def group_shape(
    by: list[a.GroupKey], first: int = DEFAULT_GROUPS, offset: int = 0
) -> tuple[tuple[a.GroupKey, ...], a.GroupWindow]:
    """groupBy's keys and window, checked as `groups_of` checks them."""
    return a.checked_keys(by), a.group_window(first, offset)


async def measured(info: Info, key: a.AggregateKey) -> Page[a.Group]:
    return await info.context.loaders.aggregate_of.load(key)


async def aggregate_of(info: Info, of: CountKey) -> PaymentAggregate:
    page = await measured(info, a.AggregateKey(of))
    return PaymentAggregate(group=a.total_of(page.items))


async def groups_of(
    info: Info, of: CountKey, by: list[a.GroupKey], first: int, offset: int
) -> PaymentGroupPage:
    keys, window = group_shape(by, first, offset)
    return PaymentGroupPage.of(await measured(info, a.AggregateKey(of, keys, window)))


GroupBy = Annotated[
    list[PaymentGroupKey],
    strawberry.argument(description="Keys to group by, at least one and at most four."),
]
GroupFirst = Annotated[int, strawberry.argument(description="Groups per page, at most 200.")]
GroupOffset = Annotated[int, strawberry.argument(description="Groups to skip.")]


@strawberry.type(description="A payment list that can measure itself.")
class MeasuredList:
    """The `aggregate` and `groupBy` fields of a payment list; `list_key` says which rows
    it shows."""

    list_key: strawberry.Private[CountKey]

    @field(
        description=(
            "Count, sum, average, minimum and maximum of the money fields over every "
            "payment of this list (not only this page), per currency."
        ),
        metadata={AGGREGATE: True},
    )
    async def aggregate(self, info: Info) -> PaymentAggregate:
        return await aggregate_of(info, self.list_key)

    @field(
        name="groupBy",
        description=(
            "The list's payments grouped by the keys, each group with the same measures "
            "as `aggregate`; paged by `first` / `offset` in key order."
        ),
        metadata={GROUPS: group_shape},
    )
    async def group_by(
        self, info: Info, by: GroupBy, first: GroupFirst = DEFAULT_GROUPS, offset: GroupOffset = 0
    ) -> PaymentGroupPage:
        return await groups_of(info, self.list_key, by, first, offset)
