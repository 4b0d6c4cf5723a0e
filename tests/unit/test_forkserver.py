"""The tests' zygote (tests.forkserver): a child it forks is what a fresh interpreter
running the same command would be, and is driven like one; where it could not be, a
plain subprocess is started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

import pytest

from tests.forkserver import ROOT, SWITCH, ForkedProcess, popen, run

REPORT = [sys.executable, "-m", "tests.unit.interpreter_report"]
TESTS = ROOT / "tests"
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "ONLY_IN_THE_CHILD": "yes"}


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    reported: dict[str, Any] = json.loads(done.stdout)
    return reported


def test_a_forked_child_is_what_a_fresh_interpreter_would_be() -> None:
    # given a command, an environment and a working directory other than the zygote's
    # (the report is `unit.interpreter_report` from tests/: `-m` imports from there)
    args = [sys.executable, "-m", "unit.interpreter_report", "first", "second"]

    # when one runs in a fresh interpreter and one is forked from the zygote
    fresh = report(subprocess.run(args, cwd=TESTS, env=ENV, capture_output=True, text=True))
    forked = report(run(args, cwd=TESTS, env=ENV))

    # then they differ in their pid and random numbers only
    assert forked.pop("pid") != fresh.pop("pid")
    assert forked.pop("random") != fresh.pop("random")
    assert forked == fresh
    assert forked["environment"]["ONLY_IN_THE_CHILD"] == "yes"
    assert forked["cwd"] == str(TESTS)
    assert forked["argv"][1:] == ["first", "second"]


def test_without_pythonunbuffered_stdout_is_buffered_as_in_a_fresh_interpreter() -> None:
    env = {name: value for name, value in ENV.items() if name != "PYTHONUNBUFFERED"}

    fresh = report(subprocess.run(REPORT, cwd=ROOT, env=env, capture_output=True, text=True))
    forked = report(run(REPORT, cwd=ROOT, env=env))

    assert forked["streams"] == fresh["streams"]
    assert forked["streams"]["stdout"][3:] == [False, False, True]  # block-buffered


def test_children_draw_different_random_numbers() -> None:
    draws = {report(run(REPORT, cwd=ROOT, env=ENV))["random"] for _ in range(3)}

    assert len(draws) == 3


def test_a_forked_child_is_waited_for_stopped_and_killed_as_a_subprocess() -> None:
    # given two children, each waiting for a signal once it has reported
    def waiting() -> ForkedProcess:
        process = popen([*REPORT, "wait"], cwd=ROOT, env=ENV, stdout=subprocess.PIPE)
        assert isinstance(process, ForkedProcess)
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["pid"] == process.pid
        return process

    stopped, killed = waiting(), waiting()

    # when they are waited for a moment, then stopped and killed
    assert stopped.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        stopped.wait(timeout=0.1)
    stopped.terminate()
    killed.kill()

    # then they end by those signals, as subprocess tells it
    assert stopped.wait(timeout=10) == -signal.SIGTERM
    assert killed.wait(timeout=10) == -signal.SIGKILL
    assert stopped.poll() == -signal.SIGTERM
    killed.kill()  # (a no-op once it has ended)
    for process in (stopped, killed):
        assert process.stdout is not None
        assert process.stdout.read() == ""
        process.stdout.close()


def test_an_exit_code_and_both_streams_come_back() -> None:
    args = [sys.executable, "-m", "gateway.cli", "serve", "--port", "1", "--workers", "x"]

    done = run(args, cwd=ROOT, env=ENV)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("paygraph serve: argument --workers: must be an integer")


def test_an_environment_the_preloaded_imports_read_differently_gets_a_fresh_interpreter() -> None:
    # given a value of PAYGRAPH_RESOLVER_SPEEDUPS (the schema reads it as it is imported)
    # other than the zygote's
    other = "on" if os.environ.get("PAYGRAPH_RESOLVER_SPEEDUPS") == "off" else "off"
    env = {**ENV, "PAYGRAPH_RESOLVER_SPEEDUPS": other}

    process = popen(REPORT, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)

    assert isinstance(process, subprocess.Popen)
    assert process.wait(timeout=60) == 0


def test_the_switch_turns_the_zygote_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWITCH, "off")

    process = popen(REPORT, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL)

    assert isinstance(process, subprocess.Popen)
    assert process.wait(timeout=60) == 0
