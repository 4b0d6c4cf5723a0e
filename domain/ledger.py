"""Double-entry postings: the lines of one posting balance in every currency, and every
line is a positive amount on one side. Lines are only ever added; a correction posts
the reverse."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from domain.money import Money
from domain.statuses import LedgerDirection


class UnbalancedPosting(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LedgerLine:
    account_code: str
    direction: LedgerDirection
    money: Money


@dataclass(frozen=True, slots=True)
class Posting:
    lines: tuple[LedgerLine, ...]
    description: str

    def __post_init__(self) -> None:
        if not self.lines:
            raise UnbalancedPosting("a posting needs lines")
        balance: dict[str, int] = defaultdict(int)
        for line in self.lines:
            if line.money.amount <= 0:
                raise UnbalancedPosting("ledger lines carry positive amounts")
            sign = 1 if line.direction is LedgerDirection.DEBIT else -1
            balance[line.money.currency] += sign * line.money.amount
        if any(balance.values()):
            raise UnbalancedPosting(f"debits and credits differ: {dict(balance)}")

    def reversed(self, description: str) -> Posting:
        flipped = tuple(
            LedgerLine(line.account_code, _other(line.direction), line.money) for line in self.lines
        )
        return Posting(flipped, description)


def _other(direction: LedgerDirection) -> LedgerDirection:
    if direction is LedgerDirection.DEBIT:
        return LedgerDirection.CREDIT
    return LedgerDirection.DEBIT


def transfer(amount: Money, *, debit: str, credit: str, description: str) -> Posting:
    """Move `amount` from the credited account to the debited one."""
    return Posting(
        (
            LedgerLine(debit, LedgerDirection.DEBIT, amount),
            LedgerLine(credit, LedgerDirection.CREDIT, amount),
        ),
        description,
    )


def balances(lines: Sequence[LedgerLine]) -> dict[str, int]:
    """Debits minus credits per currency; all zero for a balanced ledger."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        sign = 1 if line.direction is LedgerDirection.DEBIT else -1
        totals[line.money.currency] += sign * line.money.amount
    return dict(totals)
