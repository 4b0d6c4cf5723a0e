"""The container files read as Docker and Compose read them, for tests that hold them to
the code: the Dockerfile's instructions, compose.yaml with its variables interpolated, and
the README's `docker run` example."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
README = ROOT / "README.md"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
_INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def dockerfile_instructions(stage: int = -1) -> list[tuple[str, str]]:
    """The (INSTRUCTION, arguments) of one build stage (the last: the runtime image),
    continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw.strip())
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for line in lines:
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), arguments.strip()))
    return stages[stage]


def dockerfile_env() -> dict[str, str]:
    """The runtime image's ENV (KEY=VALUE pairs, as Docker reads them)."""
    env: dict[str, str] = {}
    for instruction, arguments in dockerfile_instructions():
        if instruction == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def dockerfile_exec(instruction: str) -> list[str]:
    """An exec-form command of the runtime image: CMD, or HEALTHCHECK's CMD."""
    for found, arguments in dockerfile_instructions():
        if found == instruction:
            command = arguments[arguments.index("[") :]
            return list(json.loads(command))
    raise AssertionError(f"no {instruction} in the Dockerfile")


def copied_packages() -> set[str]:
    """The source folders the build stage copies (`COPY name name`)."""
    copied = set()
    for instruction, arguments in dockerfile_instructions(stage=0):
        parts = arguments.split()
        if instruction == "COPY" and len(parts) == 2 and parts[0] == parts[1]:
            copied.add(parts[0])
    return copied


def compose_file() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of `value` with the host's `variables`."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        found = variables.get(name)
        missing = found is None or (found == "" and operator and operator.startswith(":"))
        if operator and operator.endswith("-") and missing:
            return argument
        if operator and operator.endswith("?") and missing:
            raise KeyError(f"{name}: {argument}")
        return found or ""

    return _INTERPOLATION.sub(one, value)


def compose_environment(service: str, variables: dict[str, str]) -> dict[str, str]:
    """A service's environment as its container gets it."""
    environment = compose_file()["services"][service].get("environment", {})
    return {key: interpolate(str(value), variables) for key, value in environment.items()}


@dataclass(frozen=True)
class DockerRun:
    """The README's `docker run` of the PayGraph image."""

    environment: dict[str, str]
    image: str
    ports: list[str]


def readme_docker_run(secret: str) -> DockerRun:
    """The `docker run ... paygraph` line of the README's Docker section, with
    `$(openssl rand -hex 32)` standing for `secret`."""
    section = README.read_text().split("\n## Docker\n", 1)[1]
    runs = [
        line
        for line in section.splitlines()
        if line.startswith("docker run ") and line.rstrip().endswith(" paygraph")
    ]
    assert len(runs) == 1, runs
    words = shlex.split(runs[0].replace("$(openssl rand -hex 32)", secret))
    environment: dict[str, str] = {}
    ports: list[str] = []
    for flag, value in pairwise(words):
        if flag == "-e":
            key, _, text = value.partition("=")
            environment[key] = text
        elif flag == "-p":
            ports.append(value)
    return DockerRun(environment, words[-1], ports)


class RecordingEnvironment(dict[str, str]):
    """A stand-in for os.environ that notes the name of every variable asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def read_every_setting() -> None:
    """Read everything `paygraph serve` and `paygraph outbox run` read from the
    environment: the settings model, group by group."""
    from gateway.cost_settings import CostSettings
    from gateway.export_settings import ExportSettings
    from gateway.outbox_settings import OutboxSettings
    from gateway.reconcile_settings import ReconcileSettings
    from gateway.request_budget import RequestBudget
    from gateway.server_timeouts import ServerTimeouts
    from gateway.settings import Settings

    settings = Settings.from_env()
    RequestBudget.from_env()
    ServerTimeouts.from_env()
    CostSettings.from_env()
    ReconcileSettings.from_env(settings.payouts.timeout)
    ExportSettings.from_env()
    OutboxSettings.from_env()
