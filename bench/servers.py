"""What the benchmark scripts share: a `paygraph serve` process on a free port, a token
for it, and its memory as the kernel counts it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PAYGRAPH = str(Path(sys.executable).with_name("paygraph"))


@dataclass(frozen=True, slots=True)
class Server:
    pid: int
    url: str  # http://127.0.0.1:<port>
    token: str  # an admin JWT of tenant 1

    def rss_mib(self, field: str = "VmRSS") -> float:
        """Resident memory now (`VmRSS`) or at its peak so far (`VmHWM`): of the largest
        process when uvicorn runs workers under a supervisor."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        return max(_rss_kib(int(pid), field) for pid in [self.pid, *children]) / 1024


def _rss_kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", status)[1])  # type: ignore[index]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(
    process: subprocess.Popen[Any], probe: Callable[[], httpx.Response], name: str
) -> None:
    """Poll `probe` until it answers 200, for up to 20 s; fail if the process exits."""
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            if probe().status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not become ready")


@contextmanager
def serving(database_url: str, tenant: int = 1, workers: int = 1) -> Iterator[Server]:
    """`paygraph serve` on `database_url` (expiry job off) until the block ends."""
    port = free_port()
    env = {
        # wrk's connections share one token: the throttle, there to stop one caller from
        # taking the server, would measure itself. Raised out of the way (the cost limit
        # per operation stays); the environment may still set it.
        "PAYGRAPH_THROTTLE_MAXIMUM": "1000000000",
        "PAYGRAPH_THROTTLE_RESTORE_RATE": "1000000000",
        **os.environ,
        "DATABASE_URL": database_url,
        "PAYGRAPH_EXPIRY_INTERVAL": "0",
    }
    process = subprocess.Popen(
        [PAYGRAPH, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(process, lambda: httpx.get(f"{url}/readyz"), "paygraph serve")
        token = subprocess.run(
            [PAYGRAPH, "token", "--tenant", str(tenant)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        yield Server(process.pid, url, token)
    finally:
        process.terminate()
        process.wait(timeout=30)
