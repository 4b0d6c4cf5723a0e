"""Document 001's view of a partner's estate: its acquiring payments, in a window of
creation times, optionally of one status."""

from __future__ import annotations

from datetime import datetime

from domain.errors import BadUserInput, InvalidDateRange
from domain.filtering import AllOf, Condition, Filter, Op, parse_datetime
from domain.statuses import STATUSES_BY_KIND, PaymentKind, PaymentStatus

PORTFOLIO_KIND = PaymentKind.ACQUIRING
DEFAULT_PORTFOLIO_PAGE_SIZE = 50


def portfolio_filter(
    from_date: datetime | None, to_date: datetime | None, status: PaymentStatus | None
) -> Filter:
    """The payments document 001 lists; InvalidDateRange when `fromDate` is after
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
    """Document 000 lists commission payments only."""
    return Condition("kind", Op.EQ, PaymentKind.COMMISSION.value)
