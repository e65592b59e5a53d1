"""Run the app under gunicorn, configured from `Settings` rather than a config file.

Every gunicorn option the server relies on is set here, in one place, so that the image, the
tests and the benchmark run exactly the same server.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from serving import hooks, logs
from serving.lifecycle import ServerState
from serving.listeners import SharedListeners
from serving.settings import Settings


class ServingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger without its access log: the app writes one JSON line per request
    itself (`serving.observe`). gunicorn would otherwise build its access-log fields for every
    request, because a logging config is set, only to drop them at the disabled logger."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


def gunicorn_options(
    settings: Settings, state: ServerState, listeners: SharedListeners
) -> dict[str, Any]:
    return {
        "bind": [f"{settings.host}:{settings.port}"],
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
        # The master owns the sockets, so a worker's exit loses none of its queued connections
        # (`serving.listeners`).
        "reuse_port": True,
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
        "when_ready": hooks.make_when_ready(state, settings.drain_seconds),
        "pre_fork": hooks.make_pre_fork(state, listeners),
        "post_fork": hooks.make_post_fork(listeners),
        "post_worker_init": hooks.make_post_worker_init(state),
        "child_exit": hooks.make_child_exit(state),
        "proc_name": f"mlgitops-serve:{settings.model_name}",
    }


class ServingArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's master, recording each stop order before it signals a worker (workers obey
    only ordered stops: `serving.worker`) and restoring the bind address each fork borrowed."""

    def __init__(self, app: ServingApplication) -> None:
        self.server_state = app.state
        self.shared_listeners = app.listeners
        self._bind = app.bind
        super().__init__(app)

    def stop(self, graceful: bool = True) -> None:
        # The master's copies go first: each worker then closes the last one of its socket as
        # soon as it has accepted what was queued there (`ServingWorker.set_accept_enabled`).
        self.shared_listeners.close()
        super().stop(graceful)

    def kill_worker(self, pid: int, sig: int) -> None:
        worker = self.WORKERS.get(pid)
        if worker is not None:
            self.server_state.order_stop(getattr(worker, "readiness_slot", None))
        super().kill_worker(pid, sig)

    def spawn_worker(self) -> Any:
        try:
            return super().spawn_worker()
        finally:
            self.cfg.set("bind", [self._bind])


class ServingApplication(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bind = f"{settings.host}:{settings.port}"
        # Created before gunicorn forks, so that the master and every worker share them.
        self.state = ServerState(settings.workers)
        self.listeners = SharedListeners(settings.workers)
        super().__init__()

    def load_config(self) -> None:
        for key, value in gunicorn_options(self.settings, self.state, self.listeners).items():
            self.cfg.set(key, value)

    def run(self) -> None:
        try:
            ServingArbiter(self).run()
        except RuntimeError as e:
            print(f"\nError: {e}\n", file=sys.stderr, flush=True)
            sys.exit(1)

    def load(self) -> Flask:
        from serving.app import create_app

        return create_app(self.settings, serving=self.state.serving)


def run(settings: Settings) -> None:
    # prometheus-client chooses its multiprocess store at import, from this variable.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_dir
    hooks.wipe_metrics_dir(settings.metrics_dir)
    ServingApplication(settings).run()
