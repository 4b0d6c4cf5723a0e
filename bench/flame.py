"""A flame graph of the real server under load: `paygraph serve` on the benchmark's
dataset, wrk sending one workload, and py-spy sampling the server's Python stacks.

    .venv/bin/python -m bench.flame W1 [--seconds 10] [--connections 4]

Writes `bench/results/profiles/<workload>-flame.svg` (py-spy's flame graph) and
`<workload>-top.txt`: the functions holding the most samples, by own time and
including their callees, which is where the largest remaining cost is read from.
`bench/profile.py` does the same in-process, without HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from bench import load, workloads
from bench.servers import serving

PROFILES = Path(__file__).with_name("results") / "profiles"
PY_SPY = str(Path(sys.executable).with_name("py-spy"))


def _frame(frame: str) -> str:
    """`function (file:line)` without the line, so a function's samples add up."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0]})" if where else name


def summary(raw: Path, top: int = 30) -> str:
    """Own and inclusive shares of the samples in py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = [_frame(frame) for frame in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    lines = [f"{total} samples", "", "own time:"]
    lines += [f"{n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    lines += ["", "including callees:"]
    lines += [f"{n / total:6.1%}  {f}" for f, n in inclusive.most_common(2 * top)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload", choices=("W1", "W2", "W3"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/paygraph_bench"
        ),
    )
    args = parser.parse_args()
    engine_url = args.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    read = next(
        r for r in workloads.reads(workloads.targets_at(engine_url)) if r.name == args.workload
    )
    PROFILES.mkdir(parents=True, exist_ok=True)
    svg = PROFILES / f"{read.name}-flame.svg"
    raw = PROFILES / f"{read.name}-stacks.txt"
    with serving(engine_url) as server:
        url, body = f"{server.url}/graphql", json.dumps(read.body()).encode()
        headers = {"Authorization": f"Bearer {server.token}"}
        load.run_wrk(url, body, headers, args.connections, 3)  # warm-up
        # One sampler at a time (two at once disturb each other): the raw stacks, then
        # the flame graph, while wrk runs through both.
        record = [PY_SPY, "record", "--pid", str(server.pid), "--duration", str(args.seconds)]
        steps = [["--format", "raw", "-o", str(raw)], ["--format", "flamegraph", "-o", str(svg)]]

        def sample() -> None:
            for step in steps:
                subprocess.run([*record, *step], check=True, capture_output=True)

        sampler = threading.Thread(target=sample)
        sampler.start()
        result = load.run_wrk(url, body, headers, args.connections, 2 * args.seconds + 1)
        sampler.join()
    text = summary(raw)
    raw.unlink()
    header = (
        f"{read.name} ({read.title}) under wrk, {args.connections} connections: "
        f"{result.requests_per_s:.1f} req/s, p50 {result.p50_ms:.1f} ms\n"
    )
    (PROFILES / f"{read.name}-top.txt").write_text(header + text)
    print(header + text)
    print(f"wrote {svg}", file=sys.stderr)


if __name__ == "__main__":
    main()
