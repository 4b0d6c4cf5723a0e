"""A reconciled statement written out: CSV (one line per payment), JSON (the totals per
currency and per merchant and currency) and PDF (a summary table, then a section per
merchant). Amounts are written in minor units and, for people, formatted in their
currency; nothing is ever a float."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from domain.aggregates import MONEY_FIELDS, CurrencyMeasures, Group, GroupKey, rolled_up
from domain.money import Money
from domain.statements import Statement, StatementLine

CSV_COLUMNS = (
    "merchant_id",
    "merchant",
    "payment_id",
    "reference",
    "status",
    "created_at",
    "currency",
    "amount",
    "paid_amount",
    "settleable_amount",
    "detail_count",
    "detail_amount",
)


@dataclass(frozen=True, slots=True)
class StatementFiles:
    csv: Path
    json: Path
    pdf: Path


def write_statement(statement: Statement, folder: Path) -> StatementFiles:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"statement-{statement.partner_id}-{statement.month}"
    files = StatementFiles(folder / f"{stem}.csv", folder / f"{stem}.json", folder / f"{stem}.pdf")
    _write_csv(statement, files.csv)
    files.json.write_text(json.dumps(statement_json(statement), indent=2) + "\n")
    _write_pdf(statement, files.pdf)
    return files


def _write_csv(statement: Statement, path: Path) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        ordered = sorted(statement.lines, key=_line_order)
        for line in ordered:
            detail_currencies = {detail.currency for detail in line.details}
            # Details in the payment's currency add up; mixed currencies are left unsummed.
            detail_amount = (
                sum(detail.amount for detail in line.details)
                if detail_currencies <= {line.currency}
                else ""
            )
            writer.writerow(
                [
                    line.merchant_id,
                    line.merchant_name,
                    line.payment_id,
                    line.reference or "",
                    line.status,
                    line.created_at,
                    line.currency,
                    line.amount,
                    "" if line.paid_amount is None else line.paid_amount,
                    "" if line.settleable_amount is None else line.settleable_amount,
                    len(line.details),
                    detail_amount,
                ]
            )


def _line_order(line: StatementLine) -> tuple[int, str, int]:
    return (line.merchant_id, line.created_at, line.payment_id)


def statement_json(statement: Statement) -> dict[str, Any]:
    """The totals per currency, and per merchant its payments and its detail rows, each
    per currency (a shipment may be billed in another currency than its payment)."""
    merchants: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for group in statement.by_merchant_and_currency:
        entry = merchants.setdefault(
            group.keys[GroupKey.MERCHANT], {"currencies": [], "details": []}
        )
        entry["currencies"] += [_measures_json(m) for m in group.currencies]
    for group in statement.details_by_merchant_and_currency:
        entry = merchants.setdefault(
            group.keys[GroupKey.MERCHANT], {"currencies": [], "details": []}
        )
        entry["details"] += [
            {"currency": m.currency, "count": m.count, "amount": str(m.of("amount").sum or 0)}
            for m in group.currencies
        ]
    return {
        "partner": {"id": statement.partner_id, "name": statement.partner_name},
        "month": str(statement.month),
        "generatedAt": datetime.now(UTC).isoformat(),
        "paymentCount": len(statement.lines),
        "totals": [_measures_json(m) for m in statement.totals.currencies],
        "merchants": [
            {"id": merchant_id, "name": statement.merchant_names.get(merchant_id, ""), **entry}
            for merchant_id, entry in sorted(merchants.items())
        ],
        "reconciled": True,
    }


def _measures_json(measures: CurrencyMeasures) -> dict[str, Any]:
    """Amounts as strings of minor units (like the gateway's BigInt), plus their
    formatted text."""
    code = measures.currency
    found: dict[str, Any] = {"currency": code, "count": measures.count}
    for name, key in zip(MONEY_FIELDS, ("amount", "paidAmount", "settleableAmount"), strict=True):
        total = measures.of(name).sum
        found[key] = None if total is None else str(total)
    average = measures.of("amount").avg
    found["averageAmount"] = None if average is None else str(average)
    found["formatted"] = {
        "amount": _formatted(measures.of("amount").sum, code),
        "paidAmount": _formatted(measures.of("paid_amount").sum, code),
        "settleableAmount": _formatted(measures.of("settleable_amount").sum, code),
    }
    return found


def _formatted(amount: int | None, currency: str) -> str:
    return "-" if amount is None else Money(amount, currency).format()


_SUMMARY_HEADER = ("Currency", "Payments", "Requested", "Paid", "Settleable", "Avg. ticket")


def _summary_rows(currencies: tuple[CurrencyMeasures, ...]) -> list[tuple[str, ...]]:
    return [
        (
            m.currency,
            f"{m.count:,}",
            _formatted(m.of("amount").sum, m.currency),
            _formatted(m.of("paid_amount").sum, m.currency),
            _formatted(m.of("settleable_amount").sum, m.currency),
            _formatted(m.of("amount").avg, m.currency),
        )
        for m in currencies
    ]


def _write_pdf(statement: Statement, path: Path) -> None:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"Statement {statement.month}: {statement.partner_name}"))
    pdf.ln(10)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, f"Partner {statement.partner_id}, {len(statement.lines):,} payments")
    pdf.ln(8)
    _table(pdf, "Summary", _summary_rows(statement.totals.currencies))
    for group in _merchant_groups(statement):
        merchant_id = group.keys[GroupKey.MERCHANT]
        name = statement.merchant_names.get(merchant_id, "")
        _table(pdf, f"Merchant {merchant_id}: {name}", _summary_rows(group.currencies))
    pdf.output(str(path))


def _merchant_groups(statement: Statement) -> list[Group]:
    return rolled_up(statement.by_merchant_and_currency, (GroupKey.MERCHANT,))


def _table(pdf: FPDF, title: str, rows: list[tuple[str, ...]]) -> None:
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _latin(title))
    pdf.ln(9)
    pdf.set_font("Helvetica", size=9)
    with pdf.table(text_align="RIGHT", first_row_as_headings=True) as table:
        for values in [_SUMMARY_HEADER, *rows]:
            row = table.row()
            for value in values:
                row.cell(_latin(value))
    pdf.ln(4)


def _latin(text: str) -> str:
    # The PDF's core fonts are Latin-1: anything else is shown as "?" rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")
