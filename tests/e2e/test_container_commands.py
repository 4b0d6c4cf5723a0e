"""The containers' commands, run as processes the way their images would run them (no
Docker engine here): the image's CMD with the environment the Dockerfile and the README's
`docker run` example give it, on a PostgreSQL database that does not exist yet, answers
the image's own HEALTHCHECK command; then compose.yaml's outbox worker, with its
environment, delivers a notification and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from db import models as m
from db.engine import engine_for
from tests.containers import (
    compose_environment,
    compose_file,
    dockerfile_env,
    dockerfile_exec,
    readme_docker_run,
)
from tests.databases import postgres_admin_url
from tests.e2e.server import free_port

pytestmark = pytest.mark.postgres

SECRET = "container-test-secret-0123456789abcdef-0123456789"
# The console scripts and `python` of this checkout stand for the image's /opt/venv/bin.
VENV_PATH = f"{Path(sys.executable).parent}:/usr/bin:/bin"


def in_container(*layers: dict[str, str]) -> dict[str, str]:
    """The image's ENV with `layers` over it, PATH pointing at this checkout's venv."""
    environment = dict(dockerfile_env())
    for layer in layers:
        environment.update(layer)
    environment["PATH"] = VENV_PATH
    return environment


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL URL (postgresql://, as a user writes it) naming a database that does
    not exist yet; dropped afterwards."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL tests need PAYGRAPH_TEST_POSTGRES_URL")
    name = f"paygraph_container_{uuid.uuid4().hex[:10]}"
    yield make_url(admin_url).set(drivername="postgresql", database=name).render_as_string(False)

    async def drop() -> None:
        async with (
            engine_for(admin_url, isolation_level="AUTOCOMMIT") as engine,
            engine.connect() as connection,
        ):
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    asyncio.run(drop())


def _healthy(environment: dict[str, str], server: subprocess.Popen[str], cwd: Path) -> bool:
    """Runs the image's HEALTHCHECK command until it passes (True) or the server dies."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        check = subprocess.run(
            dockerfile_exec("HEALTHCHECK"), env=environment, cwd=cwd, capture_output=True
        )
        if check.returncode == 0:
            return True
        time.sleep(0.5)
    return False


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        output = process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
    return process.returncode, output


async def _queue_notification(url: str) -> int:
    async with engine_for(url) as engine, engine.begin() as connection:
        tenant = await connection.scalar(
            insert(m.Tenant).values(slug="container", name="Container").returning(m.Tenant.id)
        )
        payload = json.dumps({"text": "delivered by the compose outbox worker"})
        row = await connection.scalar(
            insert(m.Outbox)
            .values(tenant_id=tenant, channel="slack", topic="container.check", payload=payload)
            .returning(m.Outbox.id)
        )
        return int(row or 0)


async def _status(url: str, row: int) -> str | None:
    async with engine_for(url) as engine, engine.connect() as connection:
        found = await connection.scalar(select(m.Outbox.status).where(m.Outbox.id == row))
        return str(found) if found is not None else None


def test_the_image_and_the_compose_worker_run_on_a_database_made_from_zero(
    tmp_path: Path, database: str
) -> None:
    # Given the README's docker run settings, on a free port instead of 8000
    example = readme_docker_run(SECRET).environment
    environment = in_container(
        example, {"DATABASE_URL": database, "PAYGRAPH_PORT": str(free_port())}
    )
    workdir = tmp_path / "home"  # the image's WORKDIR: empty but for var/documents
    (workdir / "var" / "documents").mkdir(parents=True)

    # When the image's command starts, the image's health check passes
    gateway = subprocess.Popen(
        dockerfile_exec("CMD"),
        env=environment,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        healthy = _healthy(environment, gateway, workdir)
    finally:
        code, output = _stop(gateway)
    assert healthy, output
    # A graceful stop: uvicorn shuts the app down, then re-raises the SIGTERM it caught.
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "PayGraph on postgresql://" in output

    # Then compose's outbox worker, with compose's environment, delivers what is queued
    worker_environment = in_container(
        compose_environment("outbox", {"PAYGRAPH_JWT_SECRET": SECRET}),
        {"DATABASE_URL": database, "PAYGRAPH_OUTBOX_POLL_INTERVAL": "0.1"},
    )
    row = asyncio.run(_queue_notification(database))
    worker = subprocess.Popen(
        compose_file()["services"]["outbox"]["command"],
        env=worker_environment,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        status = asyncio.run(_status(database, row))
        while status != "delivered" and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            status = asyncio.run(_status(database, row))
    finally:
        code, output = _stop(worker)
    assert status == "delivered", output
    assert "delivered by the compose outbox worker" in output  # logged: no webhook set
    assert code == 0, output  # SIGTERM is a clean stop
