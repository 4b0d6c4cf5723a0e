"""The code under test for bench/dos.py: a checkout (`root`) run by a Python, its
`paygraph` commands, fresh `paygraph serve` processes, and the demo data they serve."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from bench.dataset import Cluster, fingerprint
from bench.servers import Server, free_port, wait_until_ready

HERE = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/paygraph_dos"
WORK = Path("/tmp/paygraph-dos")
PAYMENTS = 30_000
SQLITE_PAYMENTS = 2_000
# A fixed HS256 secret for the servers under test and the tokens minted for them.
JWT_SECRET = "paygraph-dos-benchmark-secret-0123456789abcdef"


@dataclass(frozen=True, slots=True)
class Target:
    """The code under test (`root`, run by `python`) and the database it serves."""

    root: Path
    python: str
    database_url: str
    storage: Path
    logs: Path

    def env(self, **extra: str) -> dict[str, str]:
        # Nothing of the caller's PayGraph settings leaks in: each case sets its own.
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("PAYGRAPH_") and name not in {"DATABASE_URL", "PYTHONPATH"}
        }
        return {
            **inherited,
            "PYTHONPATH": str(self.root),
            "DATABASE_URL": self.database_url,
            "PAYGRAPH_JWT_SECRET": JWT_SECRET,
            "PAYGRAPH_EXPIRY_INTERVAL": "0",
            "PAYGRAPH_STORAGE_DIR": str(self.storage),
            **extra,
        }

    def cli(self, *args: str) -> str:
        """`paygraph <args>` of the code under test; its standard output."""
        command = [self.python, "-m", "gateway.cli", *args]
        done = subprocess.run(
            command, cwd=self.root, env=self.env(), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def imported_gateway(self) -> str:
        """Where the server's `gateway` package comes from: must be under `root`."""
        command = [self.python, "-c", "import gateway; print(gateway.__file__)"]
        found = subprocess.run(
            command, cwd=self.root, env=self.env(), capture_output=True, text=True, check=True
        ).stdout.strip()
        if not Path(found).resolve().is_relative_to(self.root.resolve()):
            raise RuntimeError(f"the server would import {found}, not the code in {self.root}")
        return found

    def token(
        self,
        tenant: int = 1,
        user: int = 1,
        partner: int | None = None,
        permissions: tuple[str, ...] = (),
    ) -> str:
        args = ["token", "--tenant", str(tenant), "--user", str(user)]
        if partner is not None:
            args += ["--partner", str(partner)]
        for permission in permissions:
            args += ["--permission", permission]
        return self.cli(*args).strip()

    @contextmanager
    def serving(self, name: str, token: str, **extra_env: str) -> Iterator[Server]:
        """A fresh `paygraph serve` until the block ends; its log in `logs/<name>.log`."""
        port = free_port()
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                [self.python, "-m", "gateway.cli", "serve", "--port", str(port)],
                cwd=self.root,
                env=self.env(**extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                probe = lambda: httpx.get(f"{url}/healthz", timeout=5)  # noqa: E731
                wait_until_ready(process, probe, f"paygraph serve ({name})")
                yield Server(process.pid, url, token)
            finally:
                stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 5 s: a server busy with a huge answer would otherwise
    keep it going to the end."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def kill(server: Server) -> None:
    """Stop a server at once (a case that hit its cap); `serving` then reaps it."""
    with suppress(ProcessLookupError):
        os.kill(server.pid, signal.SIGKILL)


def ensure_dataset(cluster: Cluster, root: Path, python: str) -> Path:
    """The demo database in `cluster.name` and its documents' storage, built by `root`'s
    code unless the ones there already were. Returns the storage folder."""
    storage = WORK / "storage"
    note = fingerprint("dos", str(PAYMENTS), root=root)
    if cluster.comment(cluster.name) == note and storage.is_dir():
        print(f"dataset: reusing {cluster.name}", file=sys.stderr)
        return storage
    print(f"dataset: loading {PAYMENTS:,} payments into {cluster.name}", file=sys.stderr)
    cluster.create(cluster.name, note="loading")
    shutil.rmtree(storage, ignore_errors=True)
    storage.mkdir(parents=True)
    loader = Target(root, python, cluster.sqlalchemy_url(), storage, WORK / "logs")
    loader.cli("demo", "--payments", str(PAYMENTS))
    cluster.mark(cluster.name, note)
    return storage


def sqlite_demo(target: Target) -> Target:
    """The target on a fresh SQLite 2,000-payment demo (the issue's single-alias figure)."""
    path = WORK / "sqlite-demo.db"
    path.unlink(missing_ok=True)
    sqlite = replace(target, database_url=f"sqlite:///{path}")
    sqlite.cli("demo", "--payments", str(SQLITE_PAYMENTS))
    return sqlite
