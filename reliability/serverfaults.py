"""Faults against the real ``mlgitops-serve`` (gunicorn on 127.0.0.1): broken or missing
models, requests that do not fit the model, clients that leave or stall mid-body, SIGTERM
under load, a worker killed mid-request. Each returns what went wrong (empty: held)."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests

from reliability.repo import REPO
from tests.serving import models
from tests.serving.conftest import Server, start_server

IRIS = REPO / "models" / "iris-classifier" / "model.onnx"
DIGITS = REPO / "models" / "digits-classifier" / "model.onnx"
INFER = "/v2/models/iris/infer"
IRIS_BODY: dict[str, Any] = {
    "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]
}


def booted_workers(server: Server) -> list[int]:
    return [
        json.loads(line)["message"].count("Booting worker")
        for line in server.log_text().splitlines()
        if "Booting worker" in line
    ]


def worker_pids(server: Server) -> list[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def unloadable_model(tmp: Path, how: str) -> list[str]:
    """``how``: missing, truncated (half of the iris model), garbage, empty."""
    path = tmp / f"{how}.onnx"
    if how == "truncated":
        raw = IRIS.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "garbage":
        models.broken(path)
    elif how == "empty":
        path.write_bytes(b"")
    server = start_server(tmp, path, wait_ready=False, WORKERS="2")
    problems = []
    try:
        for _ in range(20):
            ready = requests.get(server.url + "/v2/health/ready", timeout=10).status_code
            if ready != 503:
                problems.append(f"ready answered {ready}, expected 503")
                break
        live = requests.get(server.url + "/v2/health/live", timeout=10).status_code
        if live != 200:
            problems.append(f"live answered {live}")
        infer = requests.post(server.url + INFER, json=IRIS_BODY, timeout=10)
        if infer.status_code != 503:
            problems.append(f"infer answered {infer.status_code}, expected 503")
        log = server.log_text()
        if "could not be loaded" not in log or str(path) not in log:
            problems.append("the log does not say which file failed to load and why")
        if server.process.poll() is not None or len(booted_workers(server)) != 2:
            problems.append(f"crash loop: {len(booted_workers(server))} workers booted")
        if "Traceback" in log:
            problems.append("traceback in the log")
    finally:
        server.stop()
    return problems


def mismatched_requests(tmp: Path) -> tuple[int, list[str]]:
    """The digits model (64 features) served, iris-shaped requests sent: 400s naming why."""
    server = start_server(tmp, DIGITS)
    tensor = {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}
    bodies: list[dict[str, Any]] = [
        {"inputs": [tensor]},
        {"inputs": [{**tensor, "name": "features"}]},
        {"inputs": [{**tensor, "datatype": "INT64"}]},
        {"inputs": [{**tensor, "shape": [2, 2]}]},
        {"inputs": [{**tensor, "shape": [1, 64], "data": [1] * 63}]},
        {"inputs": [{**tensor, "shape": [1, 64], "data": ["x"] * 64}]},
    ]
    problems = []
    try:
        for body in bodies:
            response = requests.post(server.url + INFER, json=body, timeout=10)
            if response.status_code != 400 or "error" not in response.json():
                problems.append(f"{body}: {response.status_code} {response.text[:200]}")
        response = requests.post(
            server.url + "/predict", json={"instances": [[1, 2, 3, 4]]}, timeout=10
        )
        if response.status_code != 400:
            problems.append(f"/predict with 4 columns: {response.status_code}")
        if "Traceback" in server.log_text():
            problems.append("traceback in the log")
    finally:
        server.stop()
    return len(bodies) + 1, problems


def _partial_post(port: int, declared: int, sent: bytes) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(
        f"POST {INFER} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n".encode()
        + sent
    )
    return client


def client_disconnects(tmp: Path, count: int) -> list[str]:
    """``count`` clients send half a body and vanish; then the server still answers all."""
    server = start_server(tmp, IRIS, WORKERS="1", THREADS="2")
    problems = []
    try:
        for index in range(count):
            client = _partial_post(server.port, 100_000, b'{"inputs": [' + b" " * (index % 50))
            if index % 2:
                client.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
            client.close()
        for _ in range(10):
            response = requests.post(server.url + INFER, json=IRIS_BODY, timeout=30)
            if response.status_code != 200:
                problems.append(f"after the disconnects: {response.status_code}")
        if len(booted_workers(server)) != 1:
            problems.append("a worker was restarted")
        if "Traceback" in server.log_text():
            problems.append("traceback in the log")
    finally:
        server.stop()
    return problems


def slow_bodies(tmp: Path, stalled: int, body_timeout: float = 1.0) -> list[str]:
    """More stalled bodies than the server has threads: each is cut off with 408 after
    BODY_TIMEOUT, and a normal request then gets through."""
    server = start_server(tmp, IRIS, WORKERS="1", THREADS="2", BODY_TIMEOUT=str(body_timeout))
    problems = []
    try:
        clients = [_partial_post(server.port, 1000, b"{") for _ in range(stalled)]
        # Each stalled client is answered (408) once the timeout frees its thread.
        for client in clients:
            client.settimeout(60)
            try:
                head = client.recv(200)
            except TimeoutError:
                head = b"(nothing within 60 s)"
            if not head.startswith(b"HTTP/1.1 408"):
                problems.append(f"stalled body answered {head[:40]!r}")
            client.close()
        response = requests.post(server.url + INFER, json=IRIS_BODY, timeout=60)
        if response.status_code != 200:
            problems.append(f"a normal request after the stalls: {response.status_code}")
    finally:
        server.stop()
    return problems


@dataclass
class SigtermOutcome:
    sent_before: int = 0
    lost: list[str] = field(default_factory=list)
    """Failed requests sent before the SIGTERM."""
    failed_after: list[str] = field(default_factory=list)
    """Failed requests sent after it (during the drain, before readiness said 503)."""
    ready_seen_503: bool = False
    exit_code: int | None = None


def sigterm_under_load(tmp: Path, clients: int = 4, drain: str | None = None) -> SigtermOutcome:
    """Clients keep sending until readiness turns 503 (a load balancer's view); SIGTERM comes
    mid-load. No request sent before the SIGTERM may fail. ``drain`` None: the default."""
    # An empty DRAIN_SECONDS counts as unset: the server's own default applies.
    slow = models.slow_matmul(tmp / "slow.onnx")
    server = start_server(tmp, slow, WORKERS="2", THREADS="2", DRAIN_SECONDS=drain or "")
    rows = np.ones((256, 4), dtype=np.float32).tolist()
    body: dict[str, Any] = {
        "inputs": [{"name": "x", "shape": [256, 4], "datatype": "FP32", "data": rows}]
    }
    stop = threading.Event()
    records: list[tuple[float, int | str]] = []
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    status: int | str = session.post(
                        server.url + INFER, json=body, timeout=120
                    ).status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                with lock:
                    records.append((started, status))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    while len(records) < 2 * clients:
        time.sleep(0.02)
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    outcome = SigtermOutcome()
    for _ in range(6000):
        try:
            if requests.get(server.url + "/v2/health/ready", timeout=10).status_code == 503:
                outcome.ready_seen_503 = True
                break
        except requests.RequestException:
            break
        time.sleep(0.01)
    stop.set()
    for thread in threads:
        thread.join()
    outcome.exit_code = server.process.wait(timeout=120)
    before = [(s, st) for s, st in records if s < signalled]
    outcome.sent_before = len(before)
    outcome.lost = [str(st) for s, st in before if st != 200]
    outcome.failed_after = [str(st) for s, st in records if s >= signalled and st != 200]
    return outcome


def worker_killed(tmp: Path) -> list[str]:
    """SIGKILL one worker while it computes; gunicorn boots another, readiness recovers and
    every later request succeeds. The killed request itself is lost (the client sees it)."""
    server = start_server(tmp, models.slow_matmul(tmp / "slow.onnx"), WORKERS="2", THREADS="1")
    rows = np.ones((1024, 4), dtype=np.float32).tolist()
    body: dict[str, Any] = {
        "inputs": [{"name": "x", "shape": [1024, 4], "datatype": "FP32", "data": rows}]
    }
    problems = []
    try:
        before = worker_pids(server)
        results: list[int | str] = []

        def send() -> None:
            try:
                results.append(
                    requests.post(server.url + INFER, json=body, timeout=120).status_code
                )
            except requests.RequestException as error:
                results.append(type(error).__name__)

        inflight = [threading.Thread(target=send) for _ in range(2)]
        for thread in inflight:
            thread.start()
        time.sleep(0.3)
        os.kill(before[0], signal.SIGKILL)
        for thread in inflight:
            thread.join()
        for _ in range(600):
            pids = worker_pids(server)
            if len(pids) == 2 and before[0] not in pids:
                break
            time.sleep(0.05)
        else:
            problems.append(f"no replacement worker: {worker_pids(server)}")
        ready = 0
        for _ in range(600):
            ready = requests.get(server.url + "/v2/health/ready", timeout=10).status_code
            if ready == 200:
                break
            time.sleep(0.05)
        if ready != 200:
            problems.append("readiness did not recover")
        for _ in range(6):
            status = requests.post(server.url + INFER, json=body, timeout=120).status_code
            if status != 200:
                problems.append(f"request after the replacement: {status}")
        if server.process.poll() is not None:
            problems.append("the master died")
    finally:
        server.stop()
    return problems
