"""The canary analysis against the real model server, scraped by the real Prometheus server
(Debian ``prometheus``): two ``mlgitops-serve`` processes stand for the stable and the canary
pods, each scraped with the target labels the Prometheus Operator and ``podTargetLabels`` give
a pod of the Rollout, and with the model's drift profile. The selectors the rendered queries
use must find exactly the canary's inference requests in what the server really exports, and
every check (5xx ratio, p99, prediction PSI) must return a verdict, not an empty result, on a
healthy canary. The verdicts on faulty canaries are proven on
recorded series in test_analysis_promql.py (the server cannot be made to fail on purpose)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.render.canary_analysis import ERROR_RATIO, LATENCY_P99, PREDICTION_PSI
from generator.render.drift import PREDICTION_BINS
from generator.render.monitoring import INFERENCE_ROUTES, REQUESTS
from generator.render.rollout_argo import analysis_template, argo_sides
from generator.resolve import Resolved
from tests.serving.conftest import EXAMPLES, Server, free_port, start_server

PROJECT = Path(__file__).resolve().parents[2]
HASHES = {"canary": "7c9d8f6b5", "stable": "5f4d7c8b9"}
REQUEST = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1] * 4}]}


@dataclass
class Cluster:
    prometheus: str
    servers: dict[str, Server]


def _query(base: str, expr: str) -> list[dict[str, object]]:
    response = requests.get(f"{base}/api/v1/query", params={"query": expr}, timeout=10)
    response.raise_for_status()
    result: list[dict[str, object]] = response.json()["data"]["result"]
    return result


def _wait(check: object, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def iris() -> Resolved:
    plan = make_plan(RepoLayout(PROJECT))
    return next(
        d for d in plan.deployments if (d.environment.name, d.model) == ("prod", "iris-classifier")
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("the prometheus server is missing: run scripts/install-apt.sh prometheus")
    tmp = tmp_path_factory.mktemp("canary-live")
    servers: dict[str, Server] = {}
    prometheus = None
    try:
        for side in HASHES:
            (tmp / side).mkdir()
            # As the rendered ConfigMap sets them: the model's name, and its drift profile.
            servers[side] = start_server(
                tmp / side,
                EXAMPLES["iris-classifier"],
                MODEL_NAME="iris-classifier",
                MODEL_PROFILE=str(PROJECT / "models/iris-classifier/profile.json"),
            )
        port = free_port()
        scrape = [
            {
                "targets": [servers[side].host],
                "labels": {
                    "namespace": "ml-prod",
                    "service": "iris-classifier",
                    "pod": f"iris-classifier-{pod_hash}-x2x9z",
                    "rollouts_pod_template_hash": pod_hash,
                },
            }
            for side, pod_hash in HASHES.items()
        ]
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "iris", "static_configs": scrape}],
        }
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        with (tmp / "prometheus.log").open("wb") as log:
            prometheus = subprocess.Popen(
                [
                    binary,
                    f"--config.file={tmp / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"

        def both_up() -> bool:
            try:
                return len([r for r in _query(base, "up == 1")]) == 2
            except requests.RequestException:
                return False

        _wait(both_up, "Prometheus to scrape both servers")
        yield Cluster(base, servers)
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(timeout=60)
        for server in servers.values():
            server.stop()


def test_the_analysis_finds_the_canarys_requests_in_what_the_server_exports(
    iris: Resolved, cluster: Cluster
) -> None:
    sides = argo_sides(iris)
    counted = {
        side: (
            f'sum({REQUESTS}{{{getattr(sides, side)}, route=~"{INFERENCE_ROUTES}"}})'.replace(
                "{{args.canary-hash}}", HASHES["canary"]
            ).replace("{{args.stable-hash}}", HASHES["stable"])
        )
        for side in HASHES
    }

    def send(count: int) -> None:
        with requests.Session() as session:
            for side, server in cluster.servers.items():
                for _ in range(count if side == "canary" else 2 * count):
                    url = server.url + "/v2/models/iris-classifier/infer"
                    assert session.post(url, json=REQUEST, timeout=10).status_code == 200
                # Health checks are requests too, but no inference: never counted.
                session.get(server.url + "/v2/health/ready", timeout=10)

    def scraped(canary: int) -> bool:
        values = {side: _query(cluster.prometheus, expr) for side, expr in counted.items()}
        expected = {"canary": canary, "stable": 2 * canary}
        return all(
            v and float(v[0]["value"][1]) == expected[side]  # type: ignore[index]
            for side, v in values.items()
        )

    # A counter's series appears with its first request; rate() needs a later sample that
    # grew, so traffic comes in two rounds with a scrape between them, as it would in a step.
    predictions = {
        side: f'sum({PREDICTION_BINS}{{rollouts_pod_template_hash="{pod_hash}"}})'
        for side, pod_hash in HASHES.items()
    }

    def predicted(canary: int) -> bool:
        expected = {"canary": canary, "stable": 2 * canary}
        values = {side: _query(cluster.prometheus, q) for side, q in predictions.items()}
        return all(
            v and float(v[0]["value"][1]) >= expected[side]  # type: ignore[index]
            for side, v in values.items()
        )

    send(5)
    _wait(lambda: scraped(5) and predicted(5), "the first requests to show up in Prometheus")
    send(25)
    _wait(lambda: scraped(30) and predicted(30), "the other requests to show up in Prometheus")

    verdicts = {}
    for metric in analysis_template(iris)["spec"]["metrics"]:
        query = metric["provider"]["prometheus"]["query"]
        query = query.replace("{{args.canary-hash}}", HASHES["canary"])
        query = query.replace("{{args.stable-hash}}", HASHES["stable"])
        result = _query(cluster.prometheus, query)
        assert len(result) == 1, (metric["name"], result)
        verdicts[metric["name"]] = float(result[0]["value"][1])  # type: ignore[index]

    assert set(verdicts) == {ERROR_RATIO, LATENCY_P99, PREDICTION_PSI}
    assert verdicts[ERROR_RATIO] == 0.0
    assert verdicts[PREDICTION_PSI] == 0.0  # the same inputs on both sides: same predictions
    assert 0 < verdicts[LATENCY_P99] < 120  # a finite p99 from the canary's own histogram
