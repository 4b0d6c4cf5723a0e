"""Portfolio KPIs (partner portfolio) for one partner over a window of creation times: volume,
count and average ticket per currency, the status mix, the exceptions (INVALID and
UNDERPAID) and the same per merchant. Two GROUP BY statements, whatever the size of the
portfolio: by status and currency (everything but the merchants is its roll-up), and by
merchant and currency."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import aggregates as a
from domain import entities as e
from domain import read_catalog as catalog
from domain.paging import CountKey
from domain.portfolio import PortfolioKpis, StatusShare, portfolio_filter, portfolio_kpis
from resolvers.relations import load_one
from schema.enums import PaymentStatus
from schema.field_decorators import field
from schema.fields import Info
from schema.money import Money
from schema.types.analytics import (
    DEFAULT_GROUPS,
    GroupFirst,
    GroupOffset,
    measured,
    measured_money,
)

if TYPE_CHECKING:
    from schema.types.parties import Merchant

MerchantRef = Annotated["Merchant", strawberry.lazy("schema.types.parties")]


def _known(amount: int, currency: str) -> Money:
    money = measured_money(amount, currency)
    assert money is not None
    return money


@strawberry.type(description="Volume of some payments in one currency.")
class PortfolioVolume:
    currency: str = strawberry.field(description="ISO 4217 code.")
    count: int = strawberry.field(description="Payments in this currency.")
    volume: Money = strawberry.field(description="Sum of the requested amounts.")
    paid_volume: Money | None = strawberry.field(
        description="Sum of the paid amounts; null when none is known."
    )
    average_ticket: Money = strawberry.field(
        description="Mean requested amount, in minor units rounded half to even."
    )


def volumes(group: a.Group) -> list[PortfolioVolume]:
    found = []
    for measures in group.currencies:
        amount, paid = measures.of("amount"), measures.of("paid_amount")
        code = measures.currency
        found.append(
            PortfolioVolume(
                currency=code,
                count=measures.count,
                volume=_known(amount.sum or 0, code),
                paid_volume=measured_money(paid.sum, code),
                average_ticket=_known(amount.avg or 0, code),
            )
        )
    return found


@strawberry.type(description="The payments of one status within the portfolio.")
class PortfolioStatus:
    status: PaymentStatus = strawberry.field(description="The status.")
    count: int = strawberry.field(description="Payments in this status.")
    share_basis_points: int = strawberry.field(
        description="Their share of the portfolio's payments in basis points (10000 = all)."
    )
    volume: list[PortfolioVolume] = strawberry.field(description="Their volume per currency.")

    @classmethod
    def of(cls, share: StatusShare) -> PortfolioStatus:
        return cls(
            status=share.status,
            count=share.payments.count,
            share_basis_points=share.basis_points,
            volume=volumes(share.payments),
        )


@strawberry.type(description="One merchant's part of the portfolio.")
class PortfolioMerchant:
    merchant_id: strawberry.Private[int | None]
    count: int = strawberry.field(description="Its payments.")
    volume: list[PortfolioVolume] = strawberry.field(description="Its volume per currency.")

    @field(
        description="The merchant; null for payments without one.",
        graphql_type=MerchantRef | None,
    )
    async def merchant(self, info: Info) -> e.Merchant | None:
        merchants = info.context.loaders.of(catalog.MERCHANT_BY_ID)
        return await load_one(merchants, self.merchant_id)


@strawberry.type(description="A page of merchants, by merchant id.")
class PortfolioMerchantPage:
    nodes: list[PortfolioMerchant] = strawberry.field(description="The merchants of this page.")
    has_next_page: bool = strawberry.field(description="More merchants follow.")


@strawberry.type(
    description=(
        "Portfolio KPIs (partner portfolio): the partner's acquiring payments created in the "
        "window (both bounds inclusive), measured per currency."
    )
)
class Portfolio:
    from_date: datetime | None = strawberry.field(description="Window start, if any.")
    to_date: datetime | None = strawberry.field(description="Window end, if any.")
    of: strawberry.Private[CountKey]

    async def _kpis(self, info: Info) -> PortfolioKpis:
        page = await measured(info, a.AggregateKey(self.of, (a.GroupKey.STATUS,)))
        return portfolio_kpis(page.items)

    @field(description="Payments in the window.")
    async def count(self, info: Info) -> int:
        return (await self._kpis(info)).total.count

    @field(description="Volume, count and average ticket per currency.")
    async def volume(self, info: Info) -> list[PortfolioVolume]:
        return volumes((await self._kpis(info)).total)

    @field(description="Every status present, in lifecycle order.")
    async def status_mix(self, info: Info) -> list[PortfolioStatus]:
        kpis = await self._kpis(info)
        return [PortfolioStatus.of(share) for share in kpis.status_mix]

    @field(
        description=(
            "The partner portfolio API's exception monitoring: INVALID and UNDERPAID, always both."
        )
    )
    async def exceptions(self, info: Info) -> list[PortfolioStatus]:
        kpis = await self._kpis(info)
        return [PortfolioStatus.of(share) for share in kpis.exceptions]

    @field(description="The same measures per merchant, paged in merchant id order.")
    async def merchants(
        self, info: Info, first: GroupFirst = DEFAULT_GROUPS, offset: GroupOffset = 0
    ) -> PortfolioMerchantPage:
        key = a.AggregateKey(self.of, (a.GroupKey.MERCHANT,), a.group_window(first, offset))
        page = await measured(info, key)
        return PortfolioMerchantPage(
            nodes=[
                PortfolioMerchant(
                    merchant_id=group.keys[a.GroupKey.MERCHANT],
                    count=group.count,
                    volume=volumes(group),
                )
                for group in page.items
            ],
            has_next_page=page.has_next,
        )


def portfolio_of(
    partner_id: int, from_date: datetime | None, to_date: datetime | None
) -> Portfolio:
    """The portfolio field's value; INVALID_DATE_RANGE when `fromDate` is after `toDate`."""
    where = portfolio_filter(from_date, to_date, None)
    return Portfolio(
        from_date=from_date,
        to_date=to_date,
        of=CountKey(catalog.PAYMENTS_OF_PARTNER.name, partner_id, where),
    )
