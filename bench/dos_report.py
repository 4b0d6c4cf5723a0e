"""One measured case group of bench/dos.py: a markdown table for people, the raw figures
for the JSON file beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.dos_http import CAP_S, Outcome


@dataclass(slots=True)
class Section:
    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        lines = [f"## {self.title}", ""]
        lines += [f"| {' | '.join(self.header)} |", f"|{'---|' * len(self.header)}"]
        for row in self.rows:
            cells = [str(cell).replace("|", "\\|").replace("\n", " ") for cell in row]
            lines.append(f"| {' | '.join(cells)} |")
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def seconds(value: float | None, capped: bool = False) -> str:
    if value is None:
        return "-"
    if capped or value >= CAP_S:
        return f"> {CAP_S:.0f} s, stopped"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} MiB"


def size(value: int) -> str:
    if value >= 1 << 20:
        return f"{value / (1 << 20):,.1f} MiB"
    return f"{value:,} B"


def tally(counts: dict[str, int]) -> str:
    """`{"200 FORBIDDEN": 20}` as `20 x 200 FORBIDDEN`; `none` when empty."""
    return ", ".join(f"{n} x {what}" for what, n in counts.items()) or "none"


def answers(outcomes: list[Outcome]) -> dict[str, int]:
    """How many of each answer (see `answer`)."""
    found: dict[str, int] = {}
    for outcome in outcomes:
        found[answer(outcome)] = found.get(answer(outcome), 0) + 1
    return found


def answer(outcome: Outcome) -> str:
    """Status and codes in a few words: `200`, `400 BAD_REQUEST`, `500 (plain text)`."""
    if outcome.status is None:
        return f"no answer ({outcome.error})"
    words = [str(outcome.status)]
    if outcome.codes:
        words.append(", ".join(sorted(set(outcome.codes))))
    elif "json" not in outcome.content_type and outcome.status >= 400:
        words.append(f"({outcome.content_type or 'no content type'})")
    if outcome.error:
        words.append(f"[{outcome.error}]")
    return " ".join(words)
