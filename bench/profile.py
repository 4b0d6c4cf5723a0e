"""Profile a read workload in-process: run W1, W2 or W3 N times against a database and
print milliseconds per request (wall and process CPU) and SQL statements per request;
optionally a profile of the timed runs.

    .venv/bin/python -m bench.profile URL W1 [-n 20] [--repeat 3]
        [--cprofile out.txt] [--pyinstrument out.html|out.txt] [--json out.json]

URL is a SQLAlchemy URL such as postgresql+asyncpg://postgres@127.0.0.1:5432/paygraph_bench.
`--json` writes the last response, to diff responses before and after a change.

Run it as a module (`-m`): as a script its folder would shadow the standard `profile`
module. A flame graph of it: `py-spy record -o w1.svg -- .venv/bin/python -m
bench.profile URL W1 -n 200`. Of a real server under load: start it, run the load
generator (wrk) against it and meanwhile `py-spy record -o w1.svg --pid <server pid>
--duration 20` (add `--idle` to see waiting too).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.workloads import TENANT, reads, targets
from db.engine import engine_for
from tests.graphql import admin, count_statements, execute


async def run(args: argparse.Namespace) -> None:
    async with engine_for(args.url) as engine:
        await _measure(engine, args)


async def _measure(engine: AsyncEngine, args: argparse.Namespace) -> None:
    workload = {read.name: read for read in reads(await targets(engine))}[args.workload]

    async def once() -> Any:
        result = await execute(engine, workload.query, admin(TENANT), **workload.variables)
        assert not result.errors, result.errors
        return result

    for _ in range(3):  # warm the pool, the caches and the parsed documents
        result = await once()
    with count_statements(engine) as statements:
        await once()
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.n):
            result = await once()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"{workload.name}: {wall / args.n * 1000:7.1f} ms wall "
            f"{cpu / args.n * 1000:7.1f} ms CPU per request, {len(statements)} statements"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result.data, indent=1, sort_keys=True))
    if args.cprofile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.n):
            await once()
        profile.disable()
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(40)
        Path(args.cprofile).write_text(text.getvalue())
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="enabled")
        profiler.start()
        for _ in range(args.n):
            await once()
        profiler.stop()
        html = args.pyinstrument.endswith(".html")
        output = profiler.output_html() if html else profiler.output_text(color=False)
        Path(args.pyinstrument).write_text(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("workload", choices=["W1", "W2", "W3"])
    parser.add_argument("-n", type=int, default=20, help="requests per repetition")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cprofile", help="write a cProfile summary (top 40 by own time)")
    parser.add_argument("--pyinstrument", help="write a pyinstrument profile (.html or text)")
    parser.add_argument("--json", help="write the last response's data")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
