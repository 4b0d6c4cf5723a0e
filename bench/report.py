"""The benchmark's results as a markdown table and a PNG chart, side by side in one
folder, so that a run can be committed and read on GitHub without running anything.

    write(measurements, Path("bench/results"), "2025-06-01",
          context={"cores": "2", "RAM": "24 GiB", "PostgreSQL": "15.20"})

matplotlib (the `bench` extra) is imported by `chart()` alone: the markdown needs only
the standard library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

MISSING = "—"
TIMES = "\N{MULTIPLICATION SIGN}"  # after a ratio: "12.3" and the sign


@dataclass(frozen=True, slots=True)
class Measurement:
    server: str  # "PayGraph", "naive Strawberry", "PostGraphile 5", "SQL floor"
    workload: str  # "W1" .. "W5"
    concurrency: int  # connections kept busy by the load generator
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    statements: float | None  # SQL statements per request, when counted
    peak_rss_mib: float | None
    errors: int
    note: str = ""


def _workload_key(workload: str) -> tuple[str, int, str]:
    """W2 before W10: the number in a workload's name sorts as a number."""
    match = re.match(r"(\D*)(\d+)(.*)", workload)
    return (match[1], int(match[2]), match[3]) if match else (workload, 0, "")


def _servers(measurements: Sequence[Measurement]) -> list[str]:
    """The servers in the order they first appear: the order the caller chose."""
    return list(dict.fromkeys(m.server for m in measurements))


def _rate(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 0.95 else f"{value:,.1f}"  # 0.04 ms is not "0.0"


def _optional(value: float | None, digits: int) -> str:
    if value is None:
        return MISSING
    if digits and value == int(value):
        return f"{value:.0f}"
    return f"{value:,.{digits}f}"


def _ratio(baseline: float | None, value: float) -> str:
    if baseline is None or value <= 0:
        return MISSING
    ratio = baseline / value
    if ratio >= 100:
        return f"{ratio:,.0f}{TIMES}"
    return f"{ratio:.1f}{TIMES}" if ratio >= 10 else f"{ratio:.2f}{TIMES}"


def markdown(measurements: Sequence[Measurement], baseline: str = "PayGraph") -> str:
    """One table, a row per (workload, concurrency, server), servers in the order given,
    with how many times `baseline`'s requests/s each server's is (`2.50` times: baseline
    serves 2.5 times as many requests per second)."""
    servers = _servers(measurements)
    rates = {(m.workload, m.concurrency, m.server): m.requests_per_s for m in measurements}
    rows = sorted(
        measurements,
        key=lambda m: (_workload_key(m.workload), m.concurrency, servers.index(m.server)),
    )
    notes = any(m.note for m in rows)
    header = [
        "workload",
        "server",
        "concurrency",
        "req/s",
        "p50 ms",
        "p99 ms",
        "statements/request",
        "peak RSS MiB",
        "errors",
        f"{baseline} ÷ server",
    ]
    if notes:
        header.append("note")
    align = ["---", "---", *["---:"] * 8, *(["---"] if notes else [])]  # numbers right
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for m in rows:
        ratio = (
            MISSING
            if m.server == baseline
            else _ratio(rates.get((m.workload, m.concurrency, baseline)), m.requests_per_s)
        )
        cells = [
            m.workload,
            m.server,
            str(m.concurrency),
            _rate(m.requests_per_s),
            _ms(m.p50_ms),
            _ms(m.p99_ms),
            _optional(m.statements, 1),
            _optional(m.peak_rss_mib, 0),
            str(m.errors),
            ratio,
        ]
        if notes:
            cells.append(m.note)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def chart(measurements: Sequence[Measurement], path: Path, title: str | None = None) -> Path:
    """Grouped bars of requests/s, a group per workload and a bar per server, a panel
    per concurrency; the y axis is logarithmic because the servers differ by orders of
    magnitude. Drawn with matplotlib's Agg canvas: no display, no pyplot state."""
    from matplotlib.figure import Figure

    servers = _servers(measurements)
    workloads = sorted({m.workload for m in measurements}, key=_workload_key)
    levels = sorted({m.concurrency for m in measurements})
    rates = {(m.workload, m.concurrency, m.server): m.requests_per_s for m in measurements}
    positive = [rate for rate in rates.values() if rate > 0]
    top = max(positive, default=1.0)
    bottom = min(positive, default=1.0)

    figure = Figure(figsize=(14, 6), dpi=100, layout="constrained")
    panels = figure.subplots(1, max(1, len(levels)), squeeze=False)[0]
    width = 0.8 / max(1, len(servers))
    colors = [f"C{index % 10}" for index in range(len(servers))]
    for axes, level in zip(panels, levels, strict=False):
        for index, server in enumerate(servers):
            values = [rates.get((w, level, server), math.nan) for w in workloads]
            heights = [v if v > 0 else math.nan for v in values]
            offsets = [x - 0.4 + width * (index + 0.5) for x in range(len(workloads))]
            bars = axes.bar(offsets, heights, width, label=server, color=colors[index])
            labels = ["" if math.isnan(v) else _rate(v) for v in values]
            axes.bar_label(bars, labels=labels, rotation=90, padding=2, fontsize=7)
        axes.set_yscale("log")
        axes.set_ylim(bottom / 2, top * 4)  # room above the tallest bar for its label
        axes.set_xticks(range(len(workloads)), workloads)
        axes.set_title(f"concurrency {level}")
        axes.set_ylabel("requests per second (log scale)")
        axes.grid(axis="y", which="major", alpha=0.3)
    handles, labels = panels[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=max(1, len(servers)))
    figure.suptitle(title or "Requests per second by workload (higher is better)")
    figure.savefig(path, format="png")
    return path


def write(
    measurements: Sequence[Measurement],
    folder: Path,
    stem: str,
    context: Mapping[str, str] | None = None,
    baseline: str = "PayGraph",
) -> tuple[Path, Path]:
    """`<stem>.md` and `<stem>.png` in `folder`. The markdown opens with the date and
    `context` (the machine and its versions: cores, RAM, PostgreSQL, ...), one line
    per entry in the order given, and shows the chart above the table."""
    folder.mkdir(parents=True, exist_ok=True)
    png = chart(measurements, folder / f"{stem}.png")
    lines = [f"# Benchmark {stem}", "", f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"]
    lines += [f"- {name}: {value}" for name, value in (context or {}).items()]
    lines += ["", f"![requests per second]({png.name})", "", markdown(measurements, baseline)]
    document = folder / f"{stem}.md"
    document.write_text("\n".join(lines))
    return document, png
