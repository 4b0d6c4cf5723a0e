"""The dates and moments PayGraph accepts, declared once.

Any date or moment given to PayGraph (a filter bound, a value date, `paidAt`, `sentAt`,
...) lies between 1970-01-01 and 9000-12-31, in UTC: far beyond any real payment,
and far enough inside the calendar's ends (years 1 and 9999) that no UTC offset can
push a moment off it when it is converted. The dates a payment was made on
(`paymentDate`, `paidAt`) are narrower: not before 2000-01-01, and not in the future
beyond CLOCK_SKEW.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(9000, 12, 31)
EARLIEST_MOMENT = datetime.combine(EARLIEST_DATE, time.min, tzinfo=UTC)
LATEST_MOMENT = datetime.combine(LATEST_DATE, time.max, tzinfo=UTC)

EARLIEST_PAYMENT_DATE = date(2000, 1, 1)
# No skew: what is recorded as paid was paid by now, by our clock (the rule PayGraph always
# had); a caller whose clock runs ahead gets a clear refusal, not a payment dated ahead.
CLOCK_SKEW = timedelta(0)

OUT_OF_RANGE = f"must lie between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"


def date_in_range(on: date) -> bool:
    return EARLIEST_DATE <= on <= LATEST_DATE


def as_utc(moment: datetime) -> datetime | None:
    """`moment` in UTC (a moment without an offset is UTC), or None when it lies outside
    the accepted range (checked before converting, so no offset can overflow)."""
    if not EARLIEST_DATE - timedelta(days=1) <= moment.date() <= LATEST_DATE + timedelta(days=1):
        return None
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc if EARLIEST_MOMENT <= utc <= LATEST_MOMENT else None


def payment_date_problem(on: date, now: datetime) -> str | None:
    """Why `on` cannot be the date a payment was made (None when it can); `now` is in
    UTC, and so is the date it gives."""
    if on < EARLIEST_PAYMENT_DATE:
        return f"must not be before {EARLIEST_PAYMENT_DATE.isoformat()}"
    if on > (now + CLOCK_SKEW).date():
        return "must not be in the future"
    return None


def payment_moment_problem(moment: datetime, now: datetime) -> str | None:
    """Why `moment` cannot be when a payment was made (None when it can); a moment
    without an offset is UTC."""
    utc = as_utc(moment)
    if utc is None:
        return OUT_OF_RANGE
    if utc > now + CLOCK_SKEW:
        return "must not be in the future"
    return payment_date_problem(utc.date(), now)
