"""A partner's monthly statement (the partner portfolio API asks to "generate a single
report summarizing all payments, then aggregate by merchant and currency for settlement
reconciliation").

The statement generator pulls the payments through the gateway and tallies them here,
with the same measures as the gateway's own aggregates (domain.aggregates); then it
reconciles its totals against the gateway's GROUP BY and refuses to write a statement
that disagrees with the database by as much as one payment or one minor unit.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.aggregates import MONEY_FIELDS, Group, GroupKey, Tally, total_of
from domain.errors import BadUserInput, DomainError

BY_MERCHANT_AND_CURRENCY: tuple[GroupKey, ...] = (GroupKey.MERCHANT, GroupKey.CURRENCY)
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in UTC; a statement covers the payments created in it."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.fullmatch(text.strip())
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
            raise BadUserInput(f"`month` must be YYYY-MM, e.g. 2026-10; got {text!r}.")
        return cls(int(match[1]), int(match[2]))

    @property
    def first_moment(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def last_moment(self) -> datetime:
        """The month's last microsecond: list filters' `lte` is inclusive."""
        days = calendar.monthrange(self.year, self.month)[1]
        return datetime(self.year, self.month, days, 23, 59, 59, 999_999, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_windows(month: Month, parts: int) -> list[tuple[datetime, datetime]]:
    """The month cut into `parts` back-to-back inclusive windows of whole days (the last
    takes the rest), together covering every microsecond of it exactly once."""
    days = calendar.monthrange(month.year, month.month)[1]
    parts = max(1, min(parts, days))
    starts = [month.first_moment + timedelta(days=days * k // parts) for k in range(parts)]
    ends = [start - timedelta(microseconds=1) for start in starts[1:]] + [month.last_moment]
    return list(zip(starts, ends, strict=True))


@dataclass(frozen=True, slots=True)
class DetailRow:
    """One of a payment's detail rows (e.g. a shipment), in minor units."""

    carrier: str
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One payment of the statement."""

    payment_id: int
    merchant_id: int
    merchant_name: str
    reference: str | None
    status: str
    created_at: str
    currency: str
    amount: int
    paid_amount: int | None
    settleable_amount: int | None
    details: tuple[DetailRow, ...] = ()

    @property
    def amounts(self) -> dict[str, int | None]:
        return {
            "amount": self.amount,
            "paid_amount": self.paid_amount,
            "settleable_amount": self.settleable_amount,
        }


@dataclass
class Statement:
    """A partner's month: its lines, tallied by merchant and currency as they arrive."""

    partner_id: int
    partner_name: str
    month: Month
    merchant_names: dict[int, str] = field(default_factory=dict)
    lines: list[StatementLine] = field(default_factory=list)
    _tally: Tally = field(default_factory=lambda: Tally(BY_MERCHANT_AND_CURRENCY))
    _details: Tally = field(default_factory=lambda: Tally(BY_MERCHANT_AND_CURRENCY))

    def add(self, line: StatementLine) -> None:
        self.lines.append(line)
        self.merchant_names.setdefault(line.merchant_id, line.merchant_name)
        keys = {GroupKey.MERCHANT: line.merchant_id, GroupKey.CURRENCY: line.currency}
        self._tally.add(keys, line.currency, line.amounts)
        for detail in line.details:
            keys = {GroupKey.MERCHANT: line.merchant_id, GroupKey.CURRENCY: detail.currency}
            self._details.add(keys, detail.currency, {"amount": detail.amount})

    @property
    def by_merchant_and_currency(self) -> list[Group]:
        """One group per merchant and currency, by merchant id then currency code."""
        return self._tally.groups()

    @property
    def details_by_merchant_and_currency(self) -> list[Group]:
        return self._details.groups()

    @property
    def totals(self) -> Group:
        """Every line, measured per currency."""
        return total_of(self.by_merchant_and_currency)


class StatementMismatch(DomainError):
    """The statement's own totals differ from the gateway's aggregate."""

    code = "STATEMENT_MISMATCH"


@dataclass(frozen=True, slots=True)
class Difference:
    merchant_id: int | None
    currency: str
    measure: str
    statement: int | None
    gateway: int | None

    def __str__(self) -> str:
        return (
            f"merchant {self.merchant_id} {self.currency} {self.measure}: statement "
            f"{self.statement}, gateway {self.gateway}"
        )


def differences(statement: Sequence[Group], gateway: Iterable[Group]) -> list[Difference]:
    """Every (merchant, currency) whose count or sums differ between the two, including
    groups only one side has."""
    ours = _by_slot(statement)
    theirs = _by_slot(gateway)
    found = []
    for slot in sorted(ours.keys() | theirs.keys(), key=lambda s: (s[0] is None, s)):
        mine, other = ours.get(slot, {}), theirs.get(slot, {})
        for measure in ("count", *MONEY_FIELDS):
            if mine.get(measure) != other.get(measure):
                found.append(Difference(*slot, measure, mine.get(measure), other.get(measure)))
    return found


def reconciled(statement: Statement, gateway: Iterable[Group]) -> None:
    """Raise StatementMismatch, listing every difference, unless the gateway agrees."""
    found = differences(statement.by_merchant_and_currency, gateway)
    if found:
        listed = "; ".join(str(difference) for difference in found[:20])
        more = f" (and {len(found) - 20} more)" if len(found) > 20 else ""
        raise StatementMismatch(
            f"Partner {statement.partner_id}, {statement.month}: the statement does not match "
            f"the gateway's aggregate: {listed}{more}."
        )


def _by_slot(groups: Iterable[Group]) -> dict[tuple[int | None, str], Mapping[str, int | None]]:
    found: dict[tuple[int | None, str], Mapping[str, int | None]] = {}
    for group in groups:
        for measures in group.currencies:
            slot = (group.keys.get(GroupKey.MERCHANT), measures.currency)
            found[slot] = {
                "count": measures.count,
                **{name: measures.of(name).sum for name in MONEY_FIELDS},
            }
    return found
