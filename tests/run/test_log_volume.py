"""The server's log volume never fills (issue 13, fault 1): after writing twice the volume's
size through requests, the pod still runs, the volume stays under its sizeLimit, and the real
Fluentd sidecar shipped every line exactly once across the rotations.

The generated volume is 512Mi: filling it twice takes over four million ordinary requests
(about half an hour here). The test renders the same pod with a 16Mi volume instead, LOG_MAX_BYTES
from the generator's own rule (`fluentd.log_max_bytes`), and long request paths (the access log
records each path: about 7 KiB a line), so about 4,600 requests fill it twice. The volume is a
tmpfs of exactly its sizeLimit (`mlgitops up`), so a server that does not rotate loses lines
once it is full, where a kubelet would evict the pod: both fail this test.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import threading
import time
from pathlib import Path

import pytest

from generator.render import fluentd
from generator.run import aggregator, podman
from generator.run.up import UpOptions, execute_down, execute_up

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]
MODEL, ENV = "diabetes-regressor", "dev"
VOLUME_MIB = 16
PATH_BYTES = 7000
CLIENTS = 4
REQUESTS_PER_SECOND = 80
"""About 0.6 MB/s: the 4 MiB files (a quarter of 16Mi) then rotate every 7 s or so. Fluentd's
tail source keeps reading a renamed file for ``rotate_wait`` (5 s) and loses lines when renames
come faster than that (measured here unpaced, a rotation a second: about one line in eight
lost, some torn). With the generated 128 MiB files that would take over 20 MB/s of log, some
70,000 requests a second on one pod."""
SHIPPED_DEADLINE_S = 120


def _fill(url: str, ids: list[str]) -> None:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.monotonic()
    for sent, request_id in enumerate(ids):
        time.sleep(max(0.0, started + sent * CLIENTS / REQUESTS_PER_SECOND - time.monotonic()))
        connection.request("GET", f"/fill/{request_id}/" + "x" * PATH_BYTES)
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 404
    connection.close()


def _shipped(pod: str) -> list[str]:
    found = []
    for record in aggregator.records(pod):
        match = re.search(r"/fill/([0-9]+)/", str(record.get("message", "")))
        if match:
            found.append(match[1])
    return found


def test_log_volume_filled_twice_over_stays_under_its_limit_and_ships_every_line_once(
    pod_services: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fluentd, "LOG_VOLUME_MIB", VOLUME_MIB)
    monkeypatch.setenv("DOCKER_HOST", pod_services["DOCKER_HOST"])
    out, err = io.StringIO(), io.StringIO()
    options = UpOptions(
        REPO,
        MODEL,
        ENV,
        detach=True,
        base_image=pod_services["MLGITOPS_E2E_BASE_IMAGE"],
        fluentd_image=pod_services["MLGITOPS_E2E_FLUENTD_IMAGE"],
    )
    assert execute_up(options, out, err, {**os.environ, **pod_services}) == 0, err.getvalue()
    pod = f"{MODEL}-{ENV}"
    try:
        url = re.search(r"is ready: (http://\S+)", out.getvalue())[1]  # type: ignore[index]
        line_bytes = PATH_BYTES + 300
        count = 2 * VOLUME_MIB * 2**20 // line_bytes + 1
        ids = [f"{n:07d}" for n in range(count)]
        threads = [
            threading.Thread(target=_fill, args=(url, ids[c::CLIENTS])) for c in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        deadline = time.monotonic() + SHIPPED_DEADLINE_S
        shipped = _shipped(pod)
        while len(set(shipped)) < count and time.monotonic() < deadline:
            time.sleep(2)
            shipped = _shipped(pod)
        assert sorted(shipped) == ids  # every line once: no loss, no duplicate
        states = podman.containers(pod)
        assert [(s.status, s.restart_count) for s in states] == [("running", 0)] * len(states)
        used = podman.run(
            ["exec", f"{pod}-server", "/bin/df", "-B1", "--output=used", fluentd.LOG_DIR]
        ).stdout.split()[-1]
        assert int(used) < VOLUME_MIB * 2**20
        listed = podman.run(["exec", f"{pod}-server", "/bin/ls", fluentd.LOG_DIR]).stdout.split()
        assert sorted(listed) == ["server.log", "server.log.1", "server.log.lock"]
    finally:
        execute_down(MODEL, ENV, io.StringIO(), io.StringIO())
