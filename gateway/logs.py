"""PayGraph's logs: one line per record on stderr, as JSON (one object a line) or as
readable text, in every process. PAYGRAPH_LOG_FORMAT chooses (json or text); unset, a
terminal gets text and anything else (a container, a file, a pipe) JSON.

`log_config` is a logging.config dictionary: `paygraph serve` hands it to uvicorn, which
applies it in every worker process it starts before the app is built, so the workers'
lines (requests, notifications logged for want of a channel, masked errors) come out
like the first process's. Besides PayGraph's own loggers it formats uvicorn's, and only
those: httpx logs each request URL at INFO, and a Slack webhook URL is a secret."""

from __future__ import annotations

import logging
import logging.config
import sys
import time
import traceback
from typing import Any

import orjson

from gateway.environment import SettingsError, env_choice, env_text

FORMATS = ("json", "text")
# A LogRecord's own attributes; anything else on a record came as `extra=` fields.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's message again, with terminal colours
}


class LogSettingsError(SettingsError):
    """PAYGRAPH_LOG_FORMAT is neither json nor text."""


def log_format_from_env() -> str:
    if env_text("PAYGRAPH_LOG_FORMAT") is None:
        return "text" if sys.stderr.isatty() else "json"
    return env_choice("PAYGRAPH_LOG_FORMAT", "", tuple(FORMATS), error=LogSettingsError)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "pid", "message", ...the record's extra fields,
    "exception"?}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker, with --workers N
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value...` for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        if not fields:
            return text
        head, newline, rest = text.partition("\n")  # a traceback stays below
        return f"{head} {fields}{newline}{rest}"


def _utc(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def log_config(log_format: str) -> dict[str, Any]:
    """The logging configuration of a server process (uvicorn's `log_config`)."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "paygraph",
        "stream": "ext://sys.stderr",
    }
    logger = {"handlers": ["stderr"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"paygraph": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "paygraph": logger,
            "uvicorn": logger,
            "uvicorn.error": {"level": "INFO"},  # through "uvicorn"'s handler
            "uvicorn.access": logger,
        },
    }


def configure_logging(log_format: str) -> None:
    """Apply `log_config` to this process (the commands that run no uvicorn)."""
    logging.config.dictConfig(log_config(log_format))
