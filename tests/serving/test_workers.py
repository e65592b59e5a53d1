"""Workers: connections spread across them, and readiness waits for every one of them."""

from __future__ import annotations

import http.client
import os
from pathlib import Path
from types import SimpleNamespace

from serving import hooks
from serving.lifecycle import ServerState
from tests.serving.conftest import start_server


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def _connections_per_worker(pid: int, port: int) -> list[int]:
    inodes = _established_inodes(port)
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    counts = []
    for child in children:
        held = 0
        for fd in Path(f"/proc/{child}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held += 1
        counts.append(held)
    return counts


def test_a_burst_of_keepalive_connections_is_spread_over_the_workers(
    tmp_path: Path, iris_model: Path
) -> None:
    """With per-worker sockets the kernel splits connections about evenly (one worker holding
    fewer than 10 of 48 by chance: about 3 in 100,000). A shared socket left most of such a burst
    with one worker in about half the runs measured, which is what this guards against."""
    server = start_server(tmp_path, iris_model, WORKERS="2", THREADS="2")
    connections = [http.client.HTTPConnection("127.0.0.1", server.port) for _ in range(48)]
    try:
        for connection in connections:
            connection.connect()
        for connection in connections:
            connection.request("GET", "/v2/health/live")
        for connection in connections:
            response = connection.getresponse()
            response.read()
            assert response.status == 200
        counts = _connections_per_worker(server.process.pid, server.port)
        assert sum(counts) == 48
        assert len(counts) == 2 and min(counts) >= 10, counts
    finally:
        for connection in connections:
            connection.close()
        server.stop()


def _boot(state: ServerState, pid: int) -> SimpleNamespace:
    worker = SimpleNamespace(pid=pid)
    hooks.make_pre_fork(state)(None, worker)
    return worker


def _loaded(state: ServerState, worker: SimpleNamespace, *, model: object = object()) -> None:
    worker.wsgi = SimpleNamespace(extensions={"dataplane": SimpleNamespace(model=model)})
    hooks.make_post_worker_init(state)(worker)


def test_readiness_waits_until_every_worker_has_loaded_its_model(tmp_path: Path) -> None:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    state = ServerState(workers=2)
    first, second = _boot(state, 101), _boot(state, 102)
    assert not state.serving()
    _loaded(state, first)
    assert not state.serving()
    _loaded(state, second)
    assert state.serving()

    hooks.make_child_exit(state)(None, first)
    replacement = _boot(state, 103)
    assert not state.serving(), "a replacement worker still loading must hold readiness back"
    _loaded(state, replacement)
    assert state.serving()

    state.start_draining()
    assert not state.serving()


def test_a_worker_whose_model_failed_to_load_keeps_the_server_not_ready() -> None:
    state = ServerState(workers=1)
    worker = _boot(state, 201)
    _loaded(state, worker, model=None)
    assert not state.serving()


def test_slots_are_reused_and_never_block_a_worker_when_exhausted() -> None:
    state = ServerState(workers=1)
    slots = [state.claim_slot() for _ in range(state.capacity)]
    assert sorted(s for s in slots if s is not None) == list(range(state.capacity))
    assert state.claim_slot() is None
    state.mark_loaded(None)
    state.release(slots[1])
    assert state.claim_slot() == slots[1]
