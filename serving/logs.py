"""JSON log lines, one object per line, to stdout and optionally to LOG_FILE.

The Fluentd sidecar tails LOG_FILE and parses each line as JSON, so every record, gunicorn's
own included, goes through the same formatter.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

# Attributes every LogRecord has; anything else was passed through `extra=` and is a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


_ENCODER = json.JSONEncoder(default=str)

# (whole second, its text): one tuple, so threads never pair a second with another's text.
_second: tuple[int, str] = (-1, "")


def timestamp(created: float) -> str:
    """UTC time in ISO 8601 with milliseconds; the per-second part is formatted once a second."""
    global _second
    second = int(created)
    cached = _second
    if cached[0] != second:
        cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        _second = cached
    return f"{cached[1]}.{int((created - second) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record, JsonLineRecord):
            return record.json_line
        doc: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key[0] != "_":
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(doc)


class JsonLineRecord(logging.LogRecord):
    """A record, as `extra=` fields would give, that also carries its JSON line.

    The access log writes one line per request, and going through `Logger.info` (caller
    lookup, then the generic formatter walking the record's attributes) cost about as much as
    answering the request. Give one to `Logger.handle`; `JsonFormatter` writes the line as is.
    """

    def __init__(self, logger: str, level: int, message: str, fields: dict[str, Any]) -> None:
        super().__init__(logger, level, "", 0, message, None, None)
        self.__dict__.update(fields)
        doc = {
            "time": timestamp(self.created),
            "level": self.levelname,
            "logger": logger,
            "message": message,
            **fields,
        }
        self.json_line = _ENCODER.encode(doc)


def logging_config(level: str, log_file: str | None) -> dict[str, Any]:
    """A `logging.config.dictConfig` document; gunicorn applies it in the master before forking,
    so the workers inherit it."""
    handlers: dict[str, Any] = {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    }
    if log_file:
        # WatchedFileHandler reopens the file after logrotate moves it away.
        handlers["file"] = {
            "class": "logging.handlers.WatchedFileHandler",
            "formatter": "json",
            "filename": log_file,
        }
    names = list(handlers)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "serving.logs.JsonFormatter"}},
        "handlers": handlers,
        "root": {"level": level, "handlers": names},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }
