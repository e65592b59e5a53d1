"""Run the app under gunicorn, configured from `Settings` rather than a config file.

Every gunicorn option the server relies on is set here, in one place, so that the image, the
tests and the benchmark run exactly the same server.
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from serving import hooks, logs
from serving.lifecycle import DRAINING
from serving.settings import Settings


class ServingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger without its access log: the app writes one JSON line per request
    itself (`serving.observe`). gunicorn would otherwise build its access-log fields for every
    request, because a logging config is set, only to drop them at the disabled logger."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "graceful_timeout": math.ceil(settings.graceful_timeout),
        # Model loading happens per worker after fork: ONNX Runtime sessions are not fork-safe.
        "preload_app": False,
        "timeout": 120,
        "keepalive": 75,
        "limit_request_line": 8190,
        "worker_tmp_dir": tempfile.gettempdir(),
        "control_socket_disable": True,
        "logconfig_dict": logs.logging_config(settings.log_level, settings.log_file),
        "accesslog": None,
        "logger_class": ServingLogger,
        "on_starting": lambda server: hooks.wipe_metrics_dir(settings.metrics_dir),
        "when_ready": hooks.make_when_ready(settings.drain_seconds),
        "child_exit": hooks.child_exit,
        "proc_name": f"mlgitops-serve:{settings.model_name}",
    }


class ServingApplication(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings).items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from serving.app import create_app

        return create_app(self.settings, draining=DRAINING.is_set)


def run(settings: Settings) -> None:
    # prometheus-client chooses its multiprocess store at import, from this variable.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_dir
    hooks.wipe_metrics_dir(settings.metrics_dir)
    ServingApplication(settings).run()
