"""The Dockerfile, compose.yaml and the README's container example, held to the code
without a Docker engine: the image copies the packages pyproject installs, every
variable they set is one PayGraph reads, the settings they give start a production
server, the health check asks a path the app serves, the services run real `paygraph`
commands, and Compose itself accepts the file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from gateway import cli
from gateway.app import create_app
from gateway.settings import Settings
from tests.containers import (
    COMPOSE,
    README,
    ROOT,
    RecordingEnvironment,
    compose_environment,
    compose_file,
    copied_packages,
    dockerfile_env,
    dockerfile_exec,
    dockerfile_instructions,
    read_every_setting,
    readme_docker_run,
)
from tests.databases import in_ci

SECRET = "container-test-secret-0123456789abcdef-0123456789"
PAYGRAPH_SERVICES = ("gateway", "outbox")


def container_environment(*layers: dict[str, str]) -> dict[str, str]:
    """The image's ENV, then each layer over it; PATH and Python's own left out."""
    merged: dict[str, str] = {}
    for layer in (dockerfile_env(), *layers):
        merged.update(layer)
    return {key: value for key, value in merged.items() if not key.startswith(("PATH", "PYTHON"))}


def test_the_image_copies_exactly_the_packages_pyproject_installs() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]

    assert copied_packages() == {pattern.rstrip("*") for pattern in include}


def test_every_variable_the_containers_set_is_a_setting_paygraph_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_by_us = set(container_environment(readme_docker_run(SECRET).environment))
    for service in PAYGRAPH_SERVICES:
        set_by_us |= set(compose_file()["services"][service]["environment"])
    environment = RecordingEnvironment(container_environment(readme_docker_run(SECRET).environment))
    monkeypatch.setattr(os, "environ", environment)

    read_every_setting()

    assert set_by_us <= environment.asked, set_by_us - environment.asked


def test_the_readme_example_starts_a_production_server_on_every_interface(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = readme_docker_run(SECRET)
    monkeypatch.setattr(os, "environ", container_environment(run.environment))

    read_every_setting()
    settings = Settings.from_env()

    assert settings.production
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    assert settings.database_url.startswith("postgresql://")
    assert run.image == "paygraph"
    assert "docker build -t paygraph ." in README.read_text()
    assert run.ports == [f"{settings.port}:{settings.port}"]


def test_without_a_payout_url_or_the_sandbox_production_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Why the example names the sandbox: the image runs in production, which pays through
    # the HTTP provider and needs its URL.
    example = readme_docker_run(SECRET).environment
    without = {k: v for k, v in example.items() if not k.startswith("PAYGRAPH_PAYOUT")}
    monkeypatch.setattr(os, "environ", container_environment(without))

    with pytest.raises(ValueError, match="PAYGRAPH_PAYOUT_URL is required"):
        Settings.from_env()


@pytest.mark.parametrize("service", PAYGRAPH_SERVICES)
def test_each_compose_service_gets_settings_that_start(
    monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    environment = compose_environment(service, {"PAYGRAPH_JWT_SECRET": SECRET})
    monkeypatch.setattr(os, "environ", container_environment(environment))

    read_every_setting()

    assert all("${" not in value for value in environment.values())
    assert Settings.from_env().database_url.endswith("@postgres:5432/paygraph")


def test_compose_asks_for_the_jwt_secret_rather_than_shipping_one() -> None:
    with pytest.raises(KeyError, match="PAYGRAPH_JWT_SECRET"):
        compose_environment("gateway", {})


def test_compose_runs_postgres_the_gateway_and_the_outbox_worker() -> None:
    services = compose_file()["services"]
    gateway, outbox, postgres = services["gateway"], services["outbox"], services["postgres"]

    assert set(services) == {"postgres", "gateway", "outbox"}
    assert postgres["image"].startswith("postgres:")
    assert "healthcheck" in postgres
    # One image, built from this folder; the worker runs it too.
    assert gateway["build"] == "." and outbox["image"] == gateway["image"]
    assert gateway["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    # The worker waits for a gateway that has migrated, and serves no /healthz itself.
    assert outbox["depends_on"] == {"gateway": {"condition": "service_healthy"}}
    assert outbox["healthcheck"] == {"disable": True}
    # The gateway publishes the port the image listens on.
    port = dockerfile_env()["PAYGRAPH_PORT"]
    assert gateway["ports"] == [f"{port}:{port}"]
    assert ("EXPOSE", port) in dockerfile_instructions()


def test_the_commands_are_the_images_and_the_long_running_worker() -> None:
    gateway = compose_file()["services"]["gateway"]["command"]
    outbox = compose_file()["services"]["outbox"]["command"]

    assert gateway == dockerfile_exec("CMD") == ["paygraph", "serve"]
    parsed = cli._parser().parse_args(gateway[1:])
    assert parsed.run is cli._serve and not parsed.demo
    parsed = cli._parser().parse_args(outbox[1:])
    assert parsed.run is cli._outbox_run and parsed.once is False  # until SIGTERM


def test_the_health_check_asks_a_path_the_app_serves(tmp_path: Path) -> None:
    check = " ".join(dockerfile_exec("HEALTHCHECK"))
    paths = re.findall(r"http://127\.0\.0\.1:\{[^}]*\}(/\w+)", check)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"))

    served = {getattr(route, "path", None) for route in app.routes}

    assert paths == ["/healthz"]
    assert "/healthz" in served


def _compose_command() -> list[str] | None:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    found = shutil.which("docker-compose")
    return [found] if found else None


def test_compose_accepts_the_file() -> None:
    command = _compose_command()
    if command is None:
        if in_ci():
            pytest.fail("CI validates compose.yaml: scripts/compose-client installs a client")
        pytest.skip("no docker compose or docker-compose (scripts/compose-client installs one)")
    environment = {"PATH": os.environ["PATH"], "PAYGRAPH_JWT_SECRET": SECRET}

    done = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "-q"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    unset = subprocess.run(
        [*command, "-f", str(COMPOSE), "config", "-q"],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert unset.returncode != 0
    assert "PAYGRAPH_JWT_SECRET" in unset.stderr
