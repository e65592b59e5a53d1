"""JSON log lines, one object per line, to stdout and optionally to LOG_FILE.

The Fluentd sidecar tails LOG_FILE and parses each line as JSON, so every record, gunicorn's
own included, goes through the same formatter.
"""

from __future__ import annotations

import fcntl
import json
import logging
import logging.handlers
import os
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


class SizeRotatingFileHandler(logging.handlers.WatchedFileHandler):
    """Appends to ``filename``; once it holds ``max_bytes`` or more, renames it to
    ``filename.1`` (replacing the previous one) and starts a new file.

    Rename-and-create is the rotation Fluentd's ``in_tail`` follows without loss or duplicates:
    it notices the new inode at the path, reads the renamed file to its end through the handle
    it still holds (for ``rotate_wait``, 5 s by default), then reads the new file from its head
    (Fluentd docs, in_tail "rotate_wait"; copy-and-truncate, by contrast, loses what is written
    between the copy and the truncation). So the log volume holds at most two files of about
    ``max_bytes`` each.

    Every gunicorn worker holds its own handle on the same path: the worker that finds the file
    full takes an exclusive ``flock`` on ``filename.lock`` and rotates only if the path still
    names the file it found full, so two workers never rotate twice for one full file; the
    others notice the new inode at their next line (what ``WatchedFileHandler`` does) and
    reopen. A line a worker appends to the renamed file before it notices still reaches Fluentd
    within ``rotate_wait``. ``max_bytes`` 0 turns rotation off.
    """

    def __init__(self, filename: str, max_bytes: int = 0, encoding: str | None = None) -> None:
        super().__init__(filename, encoding=encoding)
        self.max_bytes = max_bytes

    def emit(self, record: logging.LogRecord) -> None:
        if self.max_bytes > 0:
            try:
                self._rotate_if_full()
            except OSError:
                self.handleError(record)
                return
        super().emit(record)

    def _rotate_if_full(self) -> None:
        try:
            current = os.stat(self.baseFilename)
        except FileNotFoundError:
            return  # reopenIfNeeded, called by emit, creates it
        if current.st_size < self.max_bytes:
            return
        with open(self.baseFilename + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                again = os.stat(self.baseFilename)
            except FileNotFoundError:
                return
            if (again.st_dev, again.st_ino) == (current.st_dev, current.st_ino):
                os.replace(self.baseFilename, self.baseFilename + ".1")
        # Our own handle may still point at the renamed file: emit's reopenIfNeeded moves it.


def logging_config(level: str, log_file: str | None, log_max_bytes: int = 0) -> dict[str, Any]:
    """A `logging.config.dictConfig` document; gunicorn applies it in the master before forking,
    so the workers inherit it. ``log_max_bytes``: rotate ``log_file`` at this size (0: never)."""
    handlers: dict[str, Any] = {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    }
    if log_file:
        handlers["file"] = {
            "()": "serving.logs.SizeRotatingFileHandler",
            "formatter": "json",
            "filename": log_file,
            "max_bytes": log_max_bytes,
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
