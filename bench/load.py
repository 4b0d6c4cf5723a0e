"""HTTP load for the benchmark: Debian's `wrk`, run as a process of its own, so that
the load generator is the same C program for every server and takes no time from the
Python process that runs the orchestrator (the machine has 2 cores to share).

The Lua scripts in bench/wrk/ POST the GraphQL bodies, count GraphQL errors as well as
non-200 statuses, and print their results as one JSON line (`WRK_RESULT {...}`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

SCRIPTS = Path(__file__).with_name("wrk")
TIMEOUT_S = 30  # per request: the naive server's slow requests must not become errors


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int  # responses received, failed ones included
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int  # responses other than 200, and 200s with top-level GraphQL "errors"
    socket_errors: int  # connect, read, write errors and timeouts
    bodies_used: int | None = None  # bodies mode: requests sent, answered or not
    ran_out: bool = False  # bodies mode: the bodies ran out and the run ended early


def ensure_wrk() -> str:
    """The path of `wrk`, installed from Debian's package when missing and we are root
    (as on CI and the developers' machines)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError(
            "wrk is not installed and only root can install it: run "
            "`sudo apt-get install -y wrk` (Debian's package wrk)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    attempt = subprocess.run(install, env=env, capture_output=True, text=True)
    if attempt.returncode != 0:  # most often package lists that are stale or absent
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
        attempt = subprocess.run(install, env=env, capture_output=True, text=True)
    found = shutil.which("wrk")
    if attempt.returncode != 0 or not found:
        raise RuntimeError(f"`apt-get install wrk` failed:\n{attempt.stdout}{attempt.stderr}")
    return found


def combined(turns: list[LoadResult]) -> LoadResult:
    """Several runs against one server as one: their responses over their time, and the
    median of their p50, p90 and p99 (wrk reports percentiles, not the latencies)."""
    if not turns:
        raise ValueError("no runs to combine")
    requests = sum(t.requests for t in turns)
    duration = sum(t.duration_s for t in turns)

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2

    return LoadResult(
        requests=requests,
        duration_s=duration,
        requests_per_s=requests / duration if duration else 0.0,
        p50_ms=median([t.p50_ms for t in turns]),
        p90_ms=median([t.p90_ms for t in turns]),
        p99_ms=median([t.p99_ms for t in turns]),
        errors=sum(t.errors for t in turns),
        socket_errors=sum(t.socket_errors for t in turns),
    )


def run_wrk(
    url: str,
    body: bytes | list[bytes],
    headers: dict[str, str],
    connections: int,
    duration_s: float,
    threads: int | None = None,
) -> LoadResult:
    """POST `body` to `url` from `connections` keep-alive connections for `duration_s`
    (rounded up to whole seconds: wrk counts in seconds).

    A list of bodies gives each request the next body, each used at most once (writes
    that must not repeat), split between wrk's threads. A thread that has used up its
    share stops (its connections idle: the load is lower from then on); when all have,
    the run ends early, every body answered, and the result says `ran_out`, its
    duration being the time the load actually ran. Give enough bodies for the duration
    at the fastest rate to measure at full concurrency throughout.

    `threads` defaults to 2 (the machine's cores) when it divides `connections`, else 1:
    wrk gives each thread connections // threads, and would drop the remainder.
    """
    if connections < 1:
        raise ValueError("connections must be at least 1")
    if threads is None:
        threads = 2 if connections % 2 == 0 else 1
    if threads < 1 or connections % threads:
        raise ValueError(f"threads ({threads}) must divide connections ({connections})")
    bodies = body if isinstance(body, list) else None
    if bodies is not None:
        if not bodies:
            raise ValueError("no bodies to send")
        while len(bodies) < threads or connections % threads:  # every thread gets one
            threads -= 1
    command = [
        ensure_wrk(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, math.ceil(duration_s))}s",
        f"--timeout={TIMEOUT_S}s",
    ]
    wanted = {"Content-Type": "application/json", **headers}
    for name, value in wanted.items():
        command += ["--header", f"{name}: {value}"]
    with tempfile.TemporaryDirectory(prefix="paygraph-wrk-") as folder:
        data = Path(folder, "bodies")
        if bodies is None:
            assert isinstance(body, bytes)
            data.write_bytes(body)
            command += ["--script", str(SCRIPTS / "post.lua"), url, "--", str(data)]
        else:
            data.write_bytes(b"".join(b"%d\n%s" % (len(b), b) for b in bodies))
            command += ["--script", str(SCRIPTS / "bodies.lua"), url, "--", str(data)]
            command.append(str(threads))
        stdout, stderr = _run(command, threads, deadline_s=duration_s + TIMEOUT_S + 30)
    return _result(stdout, stderr, bodies is not None)


def _run(command: list[str], threads: int, deadline_s: float) -> tuple[list[str], str]:
    """Run wrk, reading its output as it comes: once every thread has printed
    `WRK_EXHAUSTED` (out of bodies, all answers in), SIGINT ends the run, on which wrk
    reports as if the duration were over."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        watchdog = threading.Timer(deadline_s, process.kill)
        watchdog.start()
        lines: list[str] = []
        try:
            assert process.stdout is not None
            exhausted = 0
            for line in process.stdout:
                if line.startswith("WRK_EXHAUSTED"):
                    exhausted += 1
                    if exhausted == threads:
                        process.send_signal(signal.SIGINT)
                lines.append(line)
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()  # type: ignore[union-attr]
        errors.seek(0)
        return lines, errors.read()


def _result(lines: list[str], stderr: str, bodies_mode: bool) -> LoadResult:
    reported = [line for line in lines if line.startswith("WRK_RESULT ")]
    if not reported:
        raise RuntimeError(f"wrk reported nothing:\n{''.join(lines)}{stderr}")
    if stderr.strip():  # wrk writes only failures there (a script that did not load, say)
        raise RuntimeError(f"wrk's script failed:\n{stderr}")
    data = json.loads(reported[-1].removeprefix("WRK_RESULT "))
    duration_s = data["duration_us"] / 1e6
    return LoadResult(
        requests=data["requests"],
        duration_s=duration_s,
        requests_per_s=data["requests"] / duration_s if duration_s else 0.0,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        bodies_used=data["bodies_used"] if bodies_mode else None,
        ran_out=data["exhausted_threads"] > 0,
    )
