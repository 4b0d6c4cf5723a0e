"""The partner portfolio API's view of a partner's estate: its acquiring payments, in a window of
creation times, optionally of one status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.aggregates import Group, GroupKey, rounded_quotient, total_of
from domain.errors import BadUserInput, InvalidDateRange
from domain.filtering import AllOf, Condition, Filter, Op, parse_datetime
from domain.statuses import STATUSES_BY_KIND, PaymentKind, PaymentStatus

PORTFOLIO_KIND = PaymentKind.ACQUIRING
DEFAULT_PORTFOLIO_PAGE_SIZE = 50


def portfolio_filter(
    from_date: datetime | None, to_date: datetime | None, status: PaymentStatus | None
) -> Filter:
    """The payments the partner portfolio API lists; InvalidDateRange when `fromDate` is after
    `toDate` (both bounds are inclusive). A moment without an offset is UTC."""
    if from_date is not None:
        from_date = parse_datetime(from_date, "fromDate")
    if to_date is not None:
        to_date = parse_datetime(to_date, "toDate")
    if from_date is not None and to_date is not None and from_date > to_date:
        raise InvalidDateRange(
            f"`fromDate` ({from_date.isoformat()}) is later than `toDate` ({to_date.isoformat()}).",
            field="fromDate",
        )
    parts: list[Filter] = [Condition("kind", Op.EQ, PORTFOLIO_KIND.value)]
    if from_date is not None:
        parts.append(Condition("created_at", Op.GTE, from_date))
    if to_date is not None:
        parts.append(Condition("created_at", Op.LTE, to_date))
    if status is not None:
        if status not in STATUSES_BY_KIND[PORTFOLIO_KIND]:
            allowed = ", ".join(s.name for s in STATUSES_BY_KIND[PORTFOLIO_KIND])
            raise BadUserInput(
                f"`status` {status.name} is not a portfolio payment status; use one of {allowed}.",
                field="status",
            )
        parts.append(Condition("status", Op.EQ, status.value))
    return AllOf(tuple(parts))


def commission_filter() -> Filter:
    """The commission payouts API lists commission payments only."""
    return Condition("kind", Op.EQ, PaymentKind.COMMISSION.value)


# The partner portfolio API's exception monitoring: the statuses of problem payments.
EXCEPTION_STATUSES: tuple[PaymentStatus, ...] = (PaymentStatus.INVALID, PaymentStatus.UNDERPAID)
BASIS_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class StatusShare:
    """The payments of one status, and their share of the portfolio's count."""

    status: PaymentStatus
    payments: Group
    basis_points: int


@dataclass(frozen=True, slots=True)
class PortfolioKpis:
    """The partner portfolio API's KPIs over a window: volume and average ticket per currency (in
    `total`), the status mix, and the exceptions (every exception status, empty or not)."""

    total: Group
    status_mix: tuple[StatusShare, ...]
    exceptions: tuple[StatusShare, ...]


def portfolio_kpis(by_status: Sequence[Group]) -> PortfolioKpis:
    """The KPIs from the window's payments grouped by status (each group measured per
    currency): everything else is their roll-up."""
    total = total_of(by_status)
    order = {status: index for index, status in enumerate(STATUSES_BY_KIND[PORTFOLIO_KIND])}
    groups = {group.keys[GroupKey.STATUS]: group for group in by_status}

    def share(status: PaymentStatus) -> StatusShare:
        group = groups.get(status) or Group({GroupKey.STATUS: status}, ())
        return StatusShare(status, group, share_of(group.count, total.count))

    mix = tuple(share(s) for s in sorted(groups, key=lambda s: (order.get(s, len(order)), s)))
    return PortfolioKpis(total, mix, tuple(share(s) for s in EXCEPTION_STATUSES))


def share_of(part: int, whole: int) -> int:
    """`part` of `whole` in basis points (1/100 of a percent), rounded half to even."""
    return rounded_quotient(part * BASIS_POINTS, whole) if whole else 0
