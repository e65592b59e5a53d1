"""No accepted request is lost whatever happens to the processes: SIGTERM or SIGINT sent to
the whole process group drains like one sent to the master, and connections queued on a
worker's socket survive that worker's death (`serving.listeners`, `serving.worker`)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from serving.listeners import stop_admitting
from tests.serving.conftest import start_server

TENSOR = {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}
BODY = json.dumps({"inputs": [TENSOR]}).encode()
# Refused connections were never accepted: a client may retry them elsewhere.
NOT_ACCEPTED = "ConnectionRefusedError"


def _infer_on_new_connection(port: int) -> int | str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/v2/models/iris/infer", body=BODY)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError as e:
        return type(e).__name__
    except http.client.HTTPException as e:
        return type(e).__name__
    finally:
        connection.close()


@dataclass
class Load:
    """Clients opening a new connection per request (the case a drain must get right)."""

    port: int
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[tuple[float, int | str]] = field(default_factory=list)

    def run(self) -> None:
        while not self.stop.is_set():
            outcome = _infer_on_new_connection(self.port)
            self.outcomes.append((time.monotonic(), outcome))
            if outcome == NOT_ACCEPTED:
                return


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_whole_process_group_drains_like_one_to_the_master(
    tmp_path: Path, iris_model: Path, sig: signal.Signals
) -> None:
    server = start_server(tmp_path, iris_model, WORKERS="2", THREADS="1", DRAIN_SECONDS="2")
    loads = [Load(server.port) for _ in range(4)]
    threads = [threading.Thread(target=load.run, daemon=True) for load in loads]
    for thread in threads:
        thread.start()
    try:
        while sum(len(load.outcomes) for load in loads) < 40:
            time.sleep(0.01)
        signalled = time.monotonic()
        os.killpg(server.process.pid, sig)
        assert server.process.wait(timeout=60) == 0
    finally:
        for load in loads:
            load.stop.set()
        for thread in threads:
            thread.join(timeout=120)
        server.stop()
    outcomes = [o for load in loads for o in load.outcomes]
    lost = [(round(t - signalled, 3), s) for t, s in outcomes if s not in (200, NOT_ACCEPTED)]
    assert lost == [], (
        f"{len(lost)} of {len(outcomes)} requests lost (s after the signal); server log:\n"
        + server.log_text()[-4000:]
    )
    served_while_draining = [t for t, status in outcomes if status == 200 and t > signalled + 1]
    assert served_while_draining, "the workers stopped serving at once instead of draining"


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_connections_queued_on_a_dead_workers_socket_are_served_by_its_replacement(
    tmp_path: Path, iris_model: Path
) -> None:
    """A stopped worker's socket keeps receiving its share of new connections (the kernel
    queues them); the worker is then killed, as the OOM killer would. Every request is
    answered: the queued ones by the replacement, which takes over the same socket."""
    server = start_server(tmp_path, iris_model, WORKERS="2", THREADS="1")
    victim = _children(server.process.pid)[0]
    os.kill(victim, signal.SIGSTOP)
    results: list[int | str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(_infer_on_new_connection(server.port)), daemon=True
        )
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    os.kill(victim, signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert results == [200] * 16
        assert victim not in _children(server.process.pid)
    finally:
        server.stop()


def test_a_listener_shut_to_new_connections_keeps_its_queue_and_completes_no_handshake() -> None:
    """What a stopping worker does before its last accept (`serving.listeners.stop_admitting`):
    the connection queued before is still accepted, one attempted after never connects (its
    SYN is dropped, so the client would retry rather than be reset at the close)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        address = listener.getsockname()
        queued = socket.create_connection(address, timeout=5)
        assert stop_admitting(listener)
        with pytest.raises(TimeoutError):
            socket.create_connection(address, timeout=1.5).close()
        listener.settimeout(5)
        accepted, peer = listener.accept()
        assert peer == queued.getsockname()
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()
        accepted.close()
        queued.close()
