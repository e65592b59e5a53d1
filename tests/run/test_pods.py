"""Every example pod, played by `mlgitops up` in Podman, starts, serves, ships its logs and
stops cleanly (issue 12); the server's log volume never fills (issue 13, fault 1) and the
Fluentd sidecar ships what the server writes while it drains (issue 13, fault 3)."""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as triton

from generator.run import aggregator, podman
from tests.run.conftest import REPO, Pod, cli, enabled_pairs
from tests.run.test_pod import built, template_of

pytestmark = pytest.mark.docker
PAIRS = enabled_pairs()
IDS = [f"{model}-{env}" for model, env in PAIRS]
REQUESTS = 12
ROWS = 3
IN_FLIGHT = 20
RECORDS_DEADLINE_S = 45
RUNNING_AFTER_S = 20
# Directories a container must not be able to write to unless a volume makes them writable;
# /dev/shm is the runtime's own tmpfs (a kubelet gives one too) and is left out.
PROBED_DIRS = (
    "/", "/etc", "/usr", "/usr/local", "/opt", "/var", "/var/tmp", "/var/log", "/var/lib",
    "/tmp", "/run", "/home", "/root", "/srv", "/models", "/fluentd", "/fluentd/etc",
)  # fmt: skip


def pod_for(pods: dict[tuple[str, str], Pod], pair: tuple[str, str]) -> Pod:
    pod = pods[pair]
    if pod.code != 0:
        pytest.fail(f"{pod.name} did not come up (exit {pod.code}):\n{pod.err[-3000:]}")
    return pod


def samples(model: str) -> tuple[ort.InferenceSession, dict[str, np.ndarray]]:
    session = ort.InferenceSession(
        str(REPO / "models" / model / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    rng = np.random.default_rng(12)
    inputs = {
        i.name: rng.uniform(0, 8, size=(ROWS, *[int(d) for d in i.shape[1:]])).astype(np.float32)
        for i in session.get_inputs()
    }
    return session, inputs


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_up_reaches_ready_and_says_what_it_substituted(
    pods: dict[tuple[str, str], Pod], pair: tuple[str, str]
) -> None:
    pod = pod_for(pods, pair)
    assert pod.url.startswith("http://127.0.0.1:")
    assert "substituted: server: image" in pod.out
    assert f"/v2/models/{pod.model}/infer" in pod.out  # the ready-to-paste example
    server = next(
        c for c in template_of(built(*pair))["spec"]["containers"] if c["name"] == "server"
    )
    for port in server["ports"]:
        if port["name"] != "http":  # every other port of the server is published too
            assert re.search(rf"^  {port['name']}: 127\.0\.0\.1:\d+$", pod.out, re.MULTILINE)


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_inference_through_tritonclient_equals_onnx_runtime(
    pods: dict[tuple[str, str], Pod], pair: tuple[str, str]
) -> None:
    pod = pod_for(pods, pair)
    session, inputs = samples(pod.model)
    expected = dict(
        zip([o.name for o in session.get_outputs()], session.run(None, inputs), strict=True)
    )
    client = triton.InferenceServerClient(url=pod.url.removeprefix("http://"))
    requests = []
    for name, array in inputs.items():
        request = triton.InferInput(name, list(array.shape), "FP32")
        request.set_data_from_numpy(array)
        requests.append(request)
    for _ in range(REQUESTS):
        result = client.infer(pod.model, requests)
        pod.sent += 1
        for name, value in expected.items():
            got = result.as_numpy(name)
            assert got is not None, name
            if value.dtype.kind in "iu":
                np.testing.assert_array_equal(got, value)
            else:
                np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-6)


def _access_records(pod: Pod) -> list[dict[str, Any]]:
    return [
        r
        for r in aggregator.records(pod.name)
        if r.get("logger") == "serving.access" and str(r.get("route", "")).endswith("/infer")
    ]


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_access_log_records_reach_the_aggregator_with_model_environment_and_pod(
    pods: dict[tuple[str, str], Pod], pair: tuple[str, str]
) -> None:
    pod = pod_for(pods, pair)
    if not pod.fluentd:
        template = template_of(built(*pair))
        names = [
            c["name"]
            for c in [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]
        ]
        assert "fluentd" not in names  # no sidecar, so nothing to ship: nothing to test
        return
    assert pod.sent >= REQUESTS
    deadline = time.monotonic() + RECORDS_DEADLINE_S
    records = _access_records(pod)
    while len(records) < pod.sent and time.monotonic() < deadline:
        time.sleep(1)
        records = _access_records(pod)
    assert len(records) >= pod.sent
    for record in records:
        assert record["model"] == pod.model
        assert record["environment"] == pod.env
        assert record["pod"] == pod.name
        assert record["namespace"].startswith("ml-")


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_after_20_seconds_every_container_runs_without_restarts(
    pods: dict[tuple[str, str], Pod], pair: tuple[str, str]
) -> None:
    pod = pod_for(pods, pair)
    time.sleep(max(0.0, pod.ready_at + RUNNING_AFTER_S - time.monotonic()))
    states = podman.containers(pod.name)
    template = template_of(built(*pair))
    expected = {
        f"{pod.name}-{c['name']}"
        for c in [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]
    }
    assert {s.name for s in states} == expected
    for state in states:
        assert (state.name, state.status, state.restart_count) == (state.name, "running", 0), (
            podman.logs(state.name, 20)
        )


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_every_container_has_a_read_only_root_and_exactly_its_writable_paths(
    pods: dict[tuple[str, str], Pod], pair: tuple[str, str]
) -> None:
    pod = pod_for(pods, pair)
    template = template_of(built(*pair))
    containers = [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]
    for container in containers:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        name = f"{pod.name}-{container['name']}"
        assert podman.inspect(name)["HostConfig"]["ReadonlyRootfs"] is True
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        declared = {
            m["mountPath"] for m in container.get("volumeMounts", []) if not m.get("readOnly")
        }
        probed = sorted(set(PROBED_DIRS) | mounts)
        script = (
            'for d in "$@"; do if [ -d "$d" ] && (: > "$d/.mlgitops-probe") 2>/dev/null; '
            'then echo "$d"; /bin/rm -f "$d/.mlgitops-probe"; fi; done; exit 0'
        )
        done = podman.run(["exec", name, "/bin/sh", "-c", script, "probe", *probed])
        assert set(done.stdout.split()) == declared, container["name"]


def _half_sent(url: str, model: str, body: bytes, ready: threading.Barrier, go: threading.Event,
               results: list[object]) -> None:  # fmt: skip
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.putrequest("POST", f"/v2/models/{model}/infer")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        connection.send(body[: len(body) // 2])
        ready.wait(30)
        go.wait(60)
        connection.send(body[len(body) // 2 :])
        answer = connection.getresponse()
        results.append((answer.status, json.loads(answer.read())))
    except Exception as error:  # the test reports every failure as a lost request
        results.append(error)
    finally:
        connection.close()


@dataclass
class Stopped:
    """What one pod's `down` with requests in flight came to."""

    code: int
    stdout: str
    stderr: str
    took: float
    grace: int
    results: list[object]
    expected: np.ndarray
    before: int
    """Access records at the aggregator before the down."""


def _down_in_flight(pod: Pod, environ: dict[str, str]) -> Stopped:
    session, inputs = samples(pod.model)
    body = json.dumps(
        {
            "inputs": [
                {"name": n, "datatype": "FP32", "shape": list(a.shape), "data": a.ravel().tolist()}
                for n, a in inputs.items()
            ]
        }
    ).encode()
    ready = threading.Barrier(IN_FLIGHT + 1)
    go = threading.Event()
    results: list[object] = []
    threads = [
        threading.Thread(target=_half_sent, args=(pod.url, pod.model, body, ready, go, results))
        for _ in range(IN_FLIGHT)
    ]
    for thread in threads:
        thread.start()
    ready.wait(30)
    before = len(_access_records(pod)) if pod.fluentd else 0
    grace = int(template_of(built(pod.model, pod.env))["spec"]["terminationGracePeriodSeconds"])
    started = time.monotonic()
    down: dict[str, Any] = {}
    stopper = threading.Thread(
        target=lambda: down.update(done=cli("down", pod.model, "--env", pod.env, environ=environ))
    )
    stopper.start()
    time.sleep(1.0)  # SIGTERM has reached the server: it is draining with 20 requests open
    go.set()
    for thread in threads:
        thread.join(90)
    stopper.join(grace + 60)
    done = down["done"]
    took = time.monotonic() - started
    expected = np.ravel(session.run(None, inputs)[0])
    return Stopped(
        done.returncode, done.stdout, done.stderr, took, grace, results, expected, before
    )


@pytest.fixture(scope="module")
def stopped(
    pods: dict[tuple[str, str], Pod], pod_services: dict[str, str]
) -> dict[tuple[str, str], Stopped]:
    """Every pod taken down with 20 requests in flight, three pods at a time."""
    environ = {**os.environ, **pod_services}
    up = [pod for pod in pods.values() if pod.code == 0]
    with ThreadPoolExecutor(max_workers=3) as pool:
        done = dict(
            zip(
                [(p.model, p.env) for p in up],
                pool.map(lambda p: _down_in_flight(p, environ), up),
                strict=True,
            )
        )
    for pod in up:
        pod.code = -2  # down already
    return done


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_down_with_20_requests_in_flight_loses_none_within_the_grace_period(
    pods: dict[tuple[str, str], Pod], stopped: dict[tuple[str, str], Stopped], pair: tuple[str, str]
) -> None:
    if pair not in stopped:
        pytest.fail(f"{pods[pair].name} was not up: {pods[pair].err[-2000:]}")
    down = stopped[pair]
    assert down.code == 0, down.stderr
    lost = [r for r in down.results if not isinstance(r, tuple) or r[0] != 200]
    assert not lost and len(down.results) == IN_FLIGHT
    for _, answer in down.results:  # type: ignore[misc]
        assert np.allclose(answer["outputs"][0]["data"], down.expected, rtol=1e-5)
    assert down.took <= down.grace + 15, (
        f"down took {down.took:.0f} s for a grace period of {down.grace} s"
    )
    if pods[pair].fluentd:
        # The native sidecar stops after the server: lines written while draining still ship.
        kept = Path(down.stdout.rsplit("records are in ", 1)[-1].strip())
        records = [json.loads(line) for line in kept.read_text().splitlines()]
        shipped = [r for r in records if str(r.get("route", "")).endswith("/infer")]
        assert len(shipped) >= down.before + IN_FLIGHT
    assert podman.containers(pods[pair].name) == []
