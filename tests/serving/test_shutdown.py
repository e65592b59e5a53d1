"""SIGTERM: the server stops being ready, finishes the requests in flight, and exits cleanly."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

from tests.serving import models
from tests.serving.conftest import start_server

ROWS = np.ones((1024, 4), dtype=np.float32).tolist()
BODY = {"inputs": [{"name": "x", "shape": [1024, 4], "datatype": "FP32", "data": ROWS}]}


@dataclass
class Outcome:
    started: float
    finished: float
    status: int | str


@dataclass
class Client:
    """Like a load balancer's client: sends until it sees the server report not ready."""

    url: str
    stop: threading.Event
    outcomes: list[Outcome] = field(default_factory=list)

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    response = session.post(self.url, json=BODY, timeout=60)
                    status: int | str = response.status_code
                except requests.RequestException as e:
                    status = type(e).__name__
                self.outcomes.append(Outcome(started, time.monotonic(), status))


def test_sigterm_drains_and_loses_no_request(tmp_path: Path) -> None:
    model = models.slow_matmul(tmp_path / "model.onnx")
    server = start_server(tmp_path, model, DRAIN_SECONDS="1.5", WORKERS="2", THREADS="2")
    stop = threading.Event()
    clients = [Client(server.url + "/v2/models/iris/infer", stop) for _ in range(4)]
    threads = [threading.Thread(target=c.run) for c in clients]
    for t in threads:
        t.start()
    while sum(len(c.outcomes) for c in clients) < 8:
        time.sleep(0.01)

    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    ready = 200
    while ready == 200:
        ready = requests.get(server.url + "/v2/health/ready", timeout=10).status_code
    stop.set()
    for t in threads:
        t.join()
    assert ready == 503
    assert server.process.wait(timeout=60) == 0

    outcomes = [o for c in clients for o in c.outcomes]
    assert [o.status for o in outcomes if o.status != 200] == []
    in_flight = [o for o in outcomes if o.started < signalled < o.finished]
    assert in_flight, "no request was in flight when SIGTERM arrived"
    log = server.log_text()
    assert "SIGTERM: not ready from now on" in log
    assert "Shutting down" in log
