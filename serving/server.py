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
from serving.lifecycle import ServerState
from serving.settings import Settings


class ServingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger without its access log: the app writes one JSON line per request
    itself (`serving.observe`). gunicorn would otherwise build its access-log fields for every
    request, because a logging config is set, only to drop them at the disabled logger."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


def gunicorn_options(settings: Settings, state: ServerState) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "threads": settings.threads,
        # gthread, serving a connection only once its request head has arrived, and in the
        # worker's loop thread when it has one thread (`serving.worker`).
        "worker_class": "serving.worker.ServingWorker",
        # One listening socket per worker: with a shared one, whichever worker wakes first
        # accepts a burst of keep-alive connections and keeps them, so at high concurrency one
        # worker (one core, under the GIL) could serve them all while the others idled. The
        # kernel spreads connections evenly across per-worker sockets. Readiness waits for every
        # worker's model (`serving.lifecycle`), because connections reach a worker still loading.
        "reuse_port": True,
        "graceful_timeout": math.ceil(settings.graceful_timeout),
        # Model loading happens per worker after fork: ONNX Runtime sessions are not fork-safe.
        "preload_app": False,
        "timeout": 120,
        "keepalive": 75,
        "limit_request_line": 8190,
        "worker_tmp_dir": tempfile.gettempdir(),
        "control_socket_disable": True,
        "logconfig_dict": logs.logging_config(
            settings.log_level, settings.log_file, settings.log_max_bytes
        ),
        "accesslog": None,
        "logger_class": ServingLogger,
        "on_starting": lambda server: hooks.wipe_metrics_dir(settings.metrics_dir),
        "when_ready": hooks.make_when_ready(state, settings.drain_seconds),
        "pre_fork": hooks.make_pre_fork(state),
        "post_worker_init": hooks.make_post_worker_init(state),
        "child_exit": hooks.make_child_exit(state),
        "proc_name": f"mlgitops-serve:{settings.model_name}",
    }


class ServingApplication(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Created before gunicorn forks, so that the master and every worker share it.
        self.state = ServerState(settings.workers)
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings, self.state).items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from serving.app import create_app

        return create_app(self.settings, serving=self.state.serving)


def run(settings: Settings) -> None:
    # prometheus-client chooses its multiprocess store at import, from this variable.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_dir
    hooks.wipe_metrics_dir(settings.metrics_dir)
    ServingApplication(settings).run()
