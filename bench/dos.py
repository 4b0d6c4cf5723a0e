"""Issue 17's denial-of-service and bad-input cases, measured against a real `paygraph
serve`: time to answer or refusal, status and codes, the server's peak RSS, what other
callers saw meanwhile, and whether anything was written.

    .venv/bin/python -m bench.dos --out bench/results/dos-<label>.md [--root DIR]

The server under test runs the code in `--root` (default: this checkout) as
`<python> -m gateway.cli serve` with that directory as its working directory and
PYTHONPATH, so the same script measures old and new code; the script checks that the
server imports `gateway` from there. To measure the code before issue 17 (commit
b99feb5) from a checkout of its own, sharing this checkout's .venv:

    git worktree add /tmp/paygraph-before b99feb5
    .venv/bin/python -m bench.dos --root /tmp/paygraph-before --out bench/results/dos-before.md
    git worktree remove --force /tmp/paygraph-before

Data: `--database` (default postgresql://postgres@127.0.0.1:5432/paygraph_dos) holds
`--root`'s `paygraph demo --payments 30000` (the issue's 30,000-payment PostgreSQL demo),
rebuilt when the demo generator, the migrations or the size differ from what built it;
its documents' storage is /tmp/paygraph-dos/storage. Each run works on a fresh copy
(`<database>_run`, dropped at the end), so every run starts from the same rows: the
payouts and bad inputs write to it. The demo has hundreds of payable commission
payments (approved for payment, documents approved, payout account, cutoff passed), so
the payout case needs no preparation. The single-alias figure runs on the SQLite
2,000-payment demo, as the issue measured it.

Each case that is about memory or stalls gets a fresh server, so its peak RSS (VmHWM)
is its own; every wait is capped at 60 s (reported as "> 60 s, stopped", after which
that server is killed). One run takes about five minutes on two cores. The output is a
markdown table per case group in `--out` and the raw figures in the same name with
`.json`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.dataset import Cluster
from bench.dos_cases import CASES
from bench.dos_report import Section
from bench.dos_target import DEFAULT_DATABASE, HERE, PAYMENTS, WORK, Target, ensure_dataset


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="the markdown file to write")
    parser.add_argument("--root", type=Path, default=HERE, help="the code under test")
    parser.add_argument("--python", default=sys.executable, help="runs the code under test")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="the demo database")
    parser.add_argument("--only", default="", help="comma-separated case numbers (1-7)")
    args = parser.parse_args()

    root = args.root.resolve()
    cluster = Cluster(args.database)
    storage = ensure_dataset(cluster, root, args.python)
    run_name = f"{cluster.name}_run"
    cluster.create(run_name, template=cluster.name, note="bench/dos scratch copy")
    target = Target(root, args.python, cluster.dsn(run_name), storage, WORK / "logs")
    header = {
        "label": args.out.stem,
        "root": str(root),
        "commit": _commit(root),
        "gateway": target.imported_gateway(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": f"{cluster.name} ({PAYMENTS:,} demo payments, PostgreSQL "
        f"{cluster.version()}), run on a copy",
    }
    chosen = {int(n) for n in args.only.split(",") if n.strip()}
    sections = []
    try:
        for number, case in enumerate(CASES, start=1):
            if chosen and number not in chosen:
                continue
            print(f"case {number}: {case.__doc__.splitlines()[0]}", file=sys.stderr)
            started = time.perf_counter()
            sections += case(target)
            print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        cluster.drop(run_name)
    _write(args.out, header, sections)


def _commit(root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def _write(out: Path, header: dict[str, str], sections: list[Section]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# Issue 17 denial-of-service and bad-input cases: {header['label']}", ""]
    lines += [f"- {name}: {value}" for name, value in header.items() if name != "label"]
    lines.append("- reproduce: `.venv/bin/python -m bench.dos --out <file> --root <checkout>`")
    text = "\n".join(lines) + "\n\n" + "\n".join(section.markdown() for section in sections)
    out.write_text(text)
    raw = {**header, "sections": {section.title: section.raw for section in sections}}
    out.with_suffix(".json").write_text(json.dumps(raw, indent=2, default=str) + "\n")
    print(f"wrote {out} and {out.with_suffix('.json')}", file=sys.stderr)


if __name__ == "__main__":
    main()
