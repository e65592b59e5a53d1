"""End to end, real parts only: the real server (gunicorn, two workers) with the iris profile, a
real Prometheus server (Debian ``prometheus``) on 127.0.0.1 scraping it every second and
evaluating the generated drift and accuracy rules with a 20 s window. Traffic drawn from the
reference data fires nothing; shifted traffic fires ModelInputDrift and ModelPredictionDrift;
feedback with wrong labels fires ModelAccuracyLow."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import yaml

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.render.drift import drift_rule_groups
from tests.serving.conftest import EXAMPLES, Server, free_port, start_server

PROJECT = Path(__file__).resolve().parents[2]
IRIS = PROJECT / "models" / "iris-classifier"
WINDOW_S = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("e2e-server")
    running = start_server(
        tmp,
        EXAMPLES["iris-classifier"],
        MODEL_NAME="iris-classifier",
        MODEL_PROFILE=str(IRIS / "profile.json"),
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, server: Server) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("the Prometheus server is missing: run scripts/install-apt.sh prometheus")
    tmp = tmp_path_factory.mktemp("prometheus")
    plan = make_plan(RepoLayout(PROJECT), {"iris-classifier"})
    spec = next(
        d for d in plan.deployments if d.model == "iris-classifier" and d.environment.name == "prod"
    )
    short = replace(spec, drift_window=f"{WINDOW_S}s", drift_for="4s")
    (tmp / "rules.yaml").write_text(yaml.safe_dump({"groups": drift_rule_groups(short)}))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp / "rules.yaml")],
        "scrape_configs": [
            {
                "job_name": "iris",
                # What the Prometheus Operator adds to every series of a ServiceMonitor target.
                "static_configs": [
                    {
                        "targets": [server.host],
                        "labels": {"namespace": "ml-prod", "service": "iris-classifier"},
                    }
                ],
            }
        ],
    }
    (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError((tmp / "prometheus.log").read_text())
            try:
                if requests.get(url + "/-/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    reply = requests.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=10)
    reply.raise_for_status()
    result: list[dict[str, Any]] = reply.json()["data"]["result"]
    return result


def firing(prometheus: str, alert: str) -> list[dict[str, Any]]:
    return query(prometheus, f'ALERTS{{alertname="{alert}", alertstate="firing"}}')


class Traffic:
    """Calls ``send`` with one session, again and again in a thread, until the block ends."""

    def __init__(self, send: Callable[[requests.Session], None]) -> None:
        self.send = send
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                try:
                    self.send(session)
                except requests.RequestException as e:
                    self.errors.append(str(e))
                time.sleep(0.05)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def infer_rows(server: Server, shift: float, seed: int) -> Callable[[requests.Session], None]:
    reference = np.loadtxt(IRIS / "reference.csv", delimiter=",", skiprows=1, dtype=np.float32)
    rng = np.random.default_rng(seed)

    def send(session: requests.Session) -> None:
        rows = reference[rng.integers(0, len(reference), 32)].copy()
        rows[:, 2:] += shift
        tensor = {
            "name": "input",
            "shape": [32, 4],
            "datatype": "FP32",
            "data": rows.ravel().tolist(),
        }
        reply = session.post(
            f"{server.url}/v2/models/iris-classifier/infer", json={"inputs": [tensor]}, timeout=10
        )
        reply.raise_for_status()

    return send


def wrong_feedback(server: Server) -> Callable[[requests.Session], None]:
    def send(session: requests.Session) -> None:
        tensors = [
            {"name": "predicted", "shape": [8], "datatype": "INT64", "data": [0] * 8},
            {"name": "actual", "shape": [8], "datatype": "INT64", "data": [1] * 6 + [0] * 2},
        ]
        reply = session.post(
            f"{server.url}/v2/models/iris-classifier/feedback", json={"inputs": tensors}, timeout=10
        )
        reply.raise_for_status()

    return send


def wait_until(check: Callable[[], list[dict[str, Any]]], seconds: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    return []


def both_petals(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts once both shifted features fire (each crosses the threshold on its own)."""
    features = {a["metric"]["feature"] for a in alerts}
    return alerts if {"petal_length_cm", "petal_width_cm"} <= features else []


def test_reference_traffic_is_quiet_then_shift_and_wrong_labels_fire(
    server: Server, prometheus: str
) -> None:
    with Traffic(infer_rows(server, 0.0, seed=1)) as reference:
        time.sleep(WINDOW_S + 5)
        psi = query(prometheus, "mlgitops:input_drift_psi")
        prediction_psi = query(prometheus, "mlgitops:prediction_drift_psi")
        quiet = query(prometheus, 'ALERTS{alertname=~"Model.*"}')
    assert not reference.errors
    assert sorted(s["metric"]["feature"] for s in psi) == [
        "petal_length_cm",
        "petal_width_cm",
        "sepal_length_cm",
        "sepal_width_cm",
    ]
    assert len(prediction_psi) == 4
    assert max(float(s["value"][1]) for s in psi + prediction_psi) < 0.2
    assert quiet == []

    with Traffic(infer_rows(server, 0.8, seed=2)) as shifted:
        drift = wait_until(lambda: both_petals(firing(prometheus, "ModelInputDrift")), 90)
        predictions = wait_until(lambda: firing(prometheus, "ModelPredictionDrift"), 30)
    assert not shifted.errors
    assert {a["metric"]["feature"] for a in drift} >= {"petal_length_cm", "petal_width_cm"}
    assert "sepal_length_cm" not in {a["metric"]["feature"] for a in drift}
    assert predictions, "ModelPredictionDrift did not fire"
    assert firing(prometheus, "ModelAccuracyLow") == []

    with Traffic(wrong_feedback(server)) as feedback:
        accuracy = wait_until(lambda: firing(prometheus, "ModelAccuracyLow"), 60)
    assert not feedback.errors
    assert [a["metric"]["output"] for a in accuracy] == ["label"]
    assert float(query(prometheus, "mlgitops:feedback_accuracy")[0]["value"][1]) == pytest.approx(
        0.25
    )
