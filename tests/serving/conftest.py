"""Fixtures that start the real `mlgitops-serve` (gunicorn) on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.serving import models

REPO = Path(__file__).resolve().parents[2]
SERVE = Path(sys.executable).with_name("mlgitops-serve")
EXAMPLES = {
    "iris-classifier": REPO / "models" / "iris-classifier" / "model.onnx",
    "diabetes-regressor": REPO / "models" / "diabetes-regressor" / "model.onnx",
    "digits-classifier": REPO / "models" / "digits-classifier" / "model.onnx",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running `mlgitops-serve` process and where its output goes."""

    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def grpc_host(self) -> str:
        return f"127.0.0.1:{self.env['GRPC_PORT']}"

    def log_text(self) -> str:
        return self.stdout.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def start_server(tmp: Path, model_path: Path, *, wait_ready: bool = True, **env: str) -> Server:
    port = free_port()
    full_env = {
        **os.environ,
        "MODEL_PATH": str(model_path),
        "MODEL_NAME": "iris",
        "MODEL_VERSION": "1",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        # Never the default 8081: grpcio binds with SO_REUSEPORT, so servers (other tests',
        # other users') on one port would share its connections.
        "GRPC_PORT": str(free_port()),
        "WORKERS": "2",
        "THREADS": "2",
        "DRAIN_SECONDS": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
        **env,
    }
    stdout = tmp / f"server-{port}.log"
    with stdout.open("wb") as out:
        # Its own process group, so that a test can signal the whole group as init does.
        process = subprocess.Popen(
            [str(SERVE)],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp,
            start_new_session=True,
        )
    server = Server(process, port, stdout, full_env)
    # Startup is polled, not timed: each try either connects or the process has exited.
    probe = "/v2/health/ready" if wait_ready else "/v2/health/live"
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()}")
        try:
            if requests.get(server.url + probe, timeout=5).status_code == 200:
                return server
        except (requests.ConnectionError, requests.Timeout):
            # A connection queued while the worker still loads its model (slow on a busy
            # machine) is answered once it has; another try waits on.
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"server never answered {probe}:\n{server.log_text()}")


@pytest.fixture(scope="session")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The iris example when present, else the same signature trained here."""
    if EXAMPLES["iris-classifier"].exists():
        return EXAMPLES["iris-classifier"]
    return models.iris_classifier(tmp_path_factory.mktemp("iris") / "model.onnx")


@pytest.fixture(scope="session")
def iris_server(tmp_path_factory: pytest.TempPathFactory, iris_model: Path) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("iris-server")
    server = start_server(
        tmp, iris_model, LOG_FILE=str(tmp / "serving.log"), MAX_REQUEST_BYTES="65536"
    )
    yield server
    server.stop()
