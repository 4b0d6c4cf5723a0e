"""The pure parts of observability: bounded metric labels, the log format's choice and
the two formatters, and the settings' refusals."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest

from gateway.logs import JsonFormatter, LogSettingsError, TextFormatter, log_format_from_env
from gateway.metrics import _NAME as OPERATION_NAME
from gateway.metrics import OTHER, BoundedLabels
from gateway.metrics_settings import MetricsSettings, MetricsSettingsError
from gateway.tracing import TracingSettingsError, exporter_from_env


def test_operation_labels_are_the_first_names_seen_and_then_other() -> None:
    # given room for two names
    labels = BoundedLabels(2, OPERATION_NAME)

    # then unnamed operations share one label, the first two names are their own labels,
    # and a third name (or anything not a GraphQL name) shares the other one
    assert labels(None) == labels("") == OTHER
    assert labels("Dashboard") == "Dashboard"
    assert labels("Statement") == "Statement"
    assert labels("Dashboard") == "Dashboard"
    assert labels("Third") == OTHER
    assert BoundedLabels(5, OPERATION_NAME)("not a name!") == OTHER


def test_trusted_names_are_the_only_labels_once_given() -> None:
    labels = BoundedLabels(100, OPERATION_NAME)
    assert labels("Seen") == "Seen"

    # when trusted documents' names are given, only they are labels
    labels.trust(["Dashboard", "Statement"])
    assert labels("Dashboard") == "Dashboard"
    assert labels("Seen") == OTHER
    assert labels("Unknown") == OTHER

    # and without them, the names seen count again
    labels.trust(None)
    assert labels("Seen") == "Seen"


def test_the_log_format_is_json_off_a_terminal_text_on_one_and_refuses_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PAYGRAPH_LOG_FORMAT", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert log_format_from_env() == "json"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert log_format_from_env() == "text"
    monkeypatch.setenv("PAYGRAPH_LOG_FORMAT", " JSON ")
    assert log_format_from_env() == "json"
    monkeypatch.setenv("PAYGRAPH_LOG_FORMAT", "xml")
    with pytest.raises(LogSettingsError, match="PAYGRAPH_LOG_FORMAT must be one of json, text"):
        log_format_from_env()


def record(**extra: Any) -> logging.LogRecord:
    found = logging.makeLogRecord(
        {"name": "paygraph.requests", "levelname": "INFO", "msg": "POST %s", "args": ("/graphql",)}
    )
    found.__dict__.update(extra)
    return found


def test_a_json_line_carries_the_records_fields() -> None:
    line = JsonFormatter().format(record(request_id="r-1", tenant=3, color_message="x"))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "POST /graphql"
    assert parsed["level"] == "info" and parsed["logger"] == "paygraph.requests"
    assert parsed["request_id"] == "r-1" and parsed["tenant"] == 3
    assert parsed["time"].endswith("Z") and isinstance(parsed["pid"], int)
    assert "color_message" not in parsed


def test_a_json_line_holds_the_exception_on_the_same_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failed = record()
        failed.exc_info = sys.exc_info()
    parsed = json.loads(JsonFormatter().format(failed))
    assert "RuntimeError: boom" in parsed["exception"]


def test_a_text_line_appends_the_fields_for_a_person() -> None:
    line = TextFormatter().format(record(request_id="r-1", status=200))
    assert line.endswith("INFO paygraph.requests POST /graphql request_id=r-1 status=200")


def test_bad_metrics_and_tracing_settings_are_refused_with_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYGRAPH_METRICS", "enabled")
    with pytest.raises(MetricsSettingsError, match="PAYGRAPH_METRICS must be true or false"):
        MetricsSettings.from_env()
    monkeypatch.setenv("PAYGRAPH_METRICS", "off")
    monkeypatch.setenv("PAYGRAPH_METRICS_OPERATIONS", "-1")
    with pytest.raises(MetricsSettingsError, match="PAYGRAPH_METRICS_OPERATIONS"):
        MetricsSettings.from_env()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(TracingSettingsError, match="OTEL_TRACES_EXPORTER must be one of"):
        exporter_from_env()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(TracingSettingsError, match="http/protobuf"):
        exporter_from_env()
