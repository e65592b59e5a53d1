"""The worker class: connections reach a thread only with a whole request head, and a worker
with one thread serves in its loop thread (pipelining, 100-continue and slow clients included)."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from serving.worker import head_complete
from tests.serving.conftest import Server, start_server

TENSOR = {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}
INFER_BODY = json.dumps({"inputs": [TENSOR]}).encode()


def _infer_request(extra_headers: str = "") -> tuple[bytes, bytes]:
    head = (
        "POST /v2/models/iris/infer HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(INFER_BODY)}\r\n{extra_headers}\r\n"
    ).encode()
    return head, INFER_BODY


class _KeptOpen(io.BufferedReader):
    """A socket stream that outlives each `HTTPResponse` read from it (they close theirs)."""

    def close(self) -> None:
        pass


class _Source:
    """Lets several `HTTPResponse`s read one after another from one buffered stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def makefile(self, *args: Any, **kwargs: Any) -> IO[bytes]:
        return self.stream


def _responses(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    stream = _KeptOpen(socket.SocketIO(sock, "rb"))
    answers = []
    for _ in range(count):
        response = http.client.HTTPResponse(_Source(stream))  # type: ignore[arg-type]
        response.begin()
        answers.append((response.status, response.read()))
    return answers


def _worker_cpu_seconds(server: Server) -> float:
    """User + system CPU time of the server's one worker process."""
    pid = server.process.pid
    (child,) = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@pytest.fixture(params=["1", "4"], ids=["one-thread", "four-threads"])
def one_worker(
    request: pytest.FixtureRequest, tmp_path: Path, iris_model: Path
) -> Iterator[Server]:
    server = start_server(tmp_path, iris_model, WORKERS="1", THREADS=request.param)
    yield server
    server.stop()


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def test_head_complete() -> None:
    assert head_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head_complete(b"GET / HTTP/1.1\r\n\r\nbody")
    assert head_complete(b"GET / HTTP/1.1\nHost: x\n\n")
    assert not head_complete(b"GET / HTTP/1.1\r\nHost: x\r\n")
    assert not head_complete(b"GET / HTTP/1.1\r\nHost: x\r\n\r")
    assert not head_complete(b"")


def test_clients_stalled_in_their_heads_do_not_hold_the_threads(one_worker: Server) -> None:
    """Five clients (more than the worker's threads) send part of a head and stop; another
    client is still answered. gthread gave each of them a thread, blocked in the parser."""
    head, body = _infer_request()
    stalled = [_connect(one_worker) for _ in range(5)]
    try:
        for sock in stalled:
            sock.sendall(head[:40])
        time.sleep(0.3)
        live = http.client.HTTPConnection("127.0.0.1", one_worker.port, timeout=5)
        live.request("GET", "/v2/health/live")
        assert live.getresponse().status == 200
        live.close()
        # The stalled clients, once they go on, are served in full.
        for sock in stalled:
            sock.sendall(head[40:] + body)
        for sock in stalled:
            ((status, answer),) = _responses(sock, 1)
            assert status == 200
            assert json.loads(answer)["outputs"][0]["name"] == "label"
    finally:
        for sock in stalled:
            sock.close()


def test_a_head_trickled_byte_by_byte_is_served_without_busy_waiting(one_worker: Server) -> None:
    """Bytes of an unfinished head are taken off the socket as they come: left there, they
    would keep it readable to the poller, which would then spin for the whole trickle."""
    head, body = _infer_request()
    before = _worker_cpu_seconds(one_worker)
    started = time.monotonic()
    with _connect(one_worker) as sock:
        for i in range(len(head)):
            sock.sendall(head[i : i + 1])
            time.sleep(0.01)
        sock.sendall(body)
        ((status, answer),) = _responses(sock, 1)
    trickle = time.monotonic() - started
    used = _worker_cpu_seconds(one_worker) - before
    assert status == 200, answer
    # A spinning worker burns about one CPU second per second of trickle.
    assert used < trickle / 4, (used, trickle)


def test_pipelined_requests_are_all_answered_in_order(one_worker: Server) -> None:
    head, body = _infer_request()
    live = b"GET /v2/health/live HTTP/1.1\r\nHost: test\r\n\r\n"
    meta = b"GET /v2/models/iris HTTP/1.1\r\nHost: test\r\n\r\n"
    # Far more requests than a loop that recursed once per buffered request could take.
    batch = (live + head + body + meta) * 400
    with _connect(one_worker) as sock:
        sock.sendall(batch)
        answers = _responses(sock, 1200)
    assert [status for status, _ in answers] == [200] * 1200
    for index in range(0, 1200, 3):
        assert answers[index][1] == b""
        assert json.loads(answers[index + 1][1])["outputs"][0]["data"] == [0]
        assert json.loads(answers[index + 2][1])["name"] == "iris"


def test_a_client_expecting_100_continue_gets_it_before_sending_the_body(
    one_worker: Server,
) -> None:
    head, body = _infer_request("Expect: 100-continue\r\n")
    with _connect(one_worker) as sock:
        sock.sendall(head)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += sock.recv(1)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        ((status, answer),) = _responses(sock, 1)
    assert status == 200
    assert json.loads(answer)["outputs"][0]["data"] == [0]


def test_a_client_that_connects_and_sends_nothing_does_not_hold_a_thread(
    one_worker: Server,
) -> None:
    silent = [_connect(one_worker) for _ in range(5)]
    try:
        time.sleep(0.3)
        live = http.client.HTTPConnection("127.0.0.1", one_worker.port, timeout=5)
        live.request("GET", "/v2/health/live")
        assert live.getresponse().status == 200
        live.close()
    finally:
        for sock in silent:
            sock.close()


def test_a_head_over_the_limit_is_refused_with_431_and_holds_nothing(one_worker: Server) -> None:
    """80 KiB of header lines and no blank line, then a stall: answered 431 and closed, while
    other clients are served. Handed to gunicorn's parser, it would have held a thread."""
    field = "X-Filler: " + "a" * 4000 + "\r\n"
    start = "POST /v2/models/iris/infer HTTP/1.1\r\nHost: test\r\n"
    with _connect(one_worker) as sock:
        sock.sendall((start + field * 20).encode())
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
        live = http.client.HTTPConnection("127.0.0.1", one_worker.port, timeout=5)
        live.request("GET", "/v2/health/live")
        assert live.getresponse().status == 200
        live.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert "larger than 65536 bytes" in json.loads(body)["error"]
    assert "refused a request head over 65536 bytes" in one_worker.log_text()


def test_the_master_loads_no_onnx_runtime_before_forking() -> None:
    """gunicorn's master imports the server and the worker class; ONNX Runtime there would be
    inherited by every forked worker (it is not fork-safe: workers crashed at exit)."""
    code = "import sys, serving.server, serving.worker; print('onnxruntime' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
