"""Gunicorn server hooks: a clean metrics directory at start, worker readiness slots, and
draining on SIGTERM.

Kubernetes sends SIGTERM and removes the pod from its Service endpoints at about the same
time, in no guaranteed order. So on SIGTERM the server first reports not ready for
DRAIN_SECONDS while still serving everything that arrives, then lets gunicorn stop gracefully:
close the listener, finish the requests in flight, exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from types import FrameType
from typing import Any

from serving.errors import SettingsError
from serving.lifecycle import ServerState
from serving.listeners import SharedListeners


def wipe_metrics_dir(path: str) -> None:
    """Files left by a previous run would be summed into this run's counters.

    Raises SettingsError when the directory cannot be emptied or created (a read-only root
    filesystem, a path outside the pod's writable volumes), so the server stops with one line
    naming PROMETHEUS_MULTIPROC_DIR rather than a traceback."""
    try:
        if os.path.isdir(path):
            for entry in os.listdir(path):
                full = os.path.join(path, entry)
                if os.path.isdir(full) and not os.path.islink(full):
                    shutil.rmtree(full)
                else:
                    os.unlink(full)
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise SettingsError(
            f"PROMETHEUS_MULTIPROC_DIR {path!r} is not a writable directory: "
            f"{error.strerror or error}; point it at a writable volume (the pod's /tmp)"
        ) from error


def make_when_ready(state: ServerState, drain_seconds: float) -> Any:
    """SIGTERM and SIGINT (a terminal's Ctrl-C) both drain; a second one of either goes
    straight to gunicorn's stop (graceful for SIGTERM, at once for SIGINT)."""

    def when_ready(server: Any) -> None:
        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            state.start_draining()
            signal.signal(signal.SIGTERM, server.signal)
            signal.signal(signal.SIGINT, server.signal)
            server.log.info(
                "%s: not ready from now on; closing the listener in %.1f s",
                signal.Signals(signum).name,
                drain_seconds,
            )
            if drain_seconds <= 0:
                server.signal(signum, frame)
                return
            timer = threading.Timer(drain_seconds, server.signal, (signal.SIGTERM, None))
            timer.daemon = True
            timer.start()

        signal.signal(signal.SIGTERM, on_sigterm)
        signal.signal(signal.SIGINT, on_sigterm)

    return when_ready


def make_pre_fork(state: ServerState, listeners: SharedListeners | None = None) -> Any:
    """Give the worker about to be forked its readiness slot and its listening socket (the
    socket of a worker that died, if one did: its queued connections wait there)."""

    def pre_fork(server: Any, worker: Any) -> None:
        worker.readiness_slot = state.claim_slot()
        worker.server_state = state
        if listeners is None:
            return
        listeners.open(server.cfg, server.log)
        in_use = (getattr(w, "listener_index", None) for w in server.WORKERS.values())
        worker.listener_index = listeners.choose(in_use)
        # Read by gunicorn in the child, right after the fork; `ServingArbiter` restores it.
        server.cfg.set("bind", [f"fd://{listeners.fd(worker.listener_index)}"])

    return pre_fork


def make_post_fork(listeners: SharedListeners) -> Any:
    def post_fork(server: Any, worker: Any) -> None:
        listeners.forget_in_child(worker.listener_index)

    return post_fork


def make_post_worker_init(state: ServerState) -> Any:
    """Runs in the worker after the app (and so the model) is loaded, before it accepts."""

    def post_worker_init(worker: Any) -> None:
        plane = worker.wsgi.extensions["dataplane"]
        if plane.model is not None:
            state.mark_loaded(worker.readiness_slot)
        settings = getattr(plane, "settings", None)
        if settings is not None and settings.grpc_port:
            # The gRPC API, on the same data plane (`serving.grpc_api`); the worker stops it.
            from serving import grpc_api

            worker.grpc_server = grpc_api.start(plane, settings)

    return post_worker_init


def make_child_exit(state: ServerState) -> Any:
    def child_exit(server: Any, worker: Any) -> None:
        """Free the dead worker's slot, and drop its live gauges (readiness) from the
        aggregated metrics."""
        from prometheus_client import multiprocess

        state.release(getattr(worker, "readiness_slot", None))
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

    return child_exit
