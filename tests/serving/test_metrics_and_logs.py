"""`/metrics` under several workers passes promtool; JSON request logs reach stdout and LOG_FILE."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.serving.conftest import Server

REQUEST = {"inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP32", "data": [1] * 8}]}


def _traffic(server: Server, count: int) -> None:
    with requests.Session() as session:
        for i in range(count):
            headers = {"X-Request-ID": f"metrics-{i}"}
            response = session.post(
                server.url + "/v2/models/iris/infer", json=REQUEST, headers=headers, timeout=10
            )
            assert response.status_code == 200


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_every_worker_and_pass_promtool(iris_server: Server) -> None:
    route = (("method", "POST"), ("route", "/v2/models/<name>/infer"), ("status", "200"))
    key = ("mlgitops_serve_requests_total", route)
    before = _samples(requests.get(iris_server.url + "/metrics", timeout=10).text).get(key, 0.0)
    _traffic(iris_server, 40)
    text = requests.get(iris_server.url + "/metrics", timeout=10).text
    samples = _samples(text)
    assert samples[key] - before == 40
    assert samples[("mlgitops_serve_model_ready", (("model", "iris"),))] == 1
    assert samples[("mlgitops_serve_model_load_seconds", (("model", "iris"),))] > 0
    names = {name for name, _ in samples}
    for expected in [
        "mlgitops_serve_request_duration_seconds_bucket",
        "mlgitops_serve_inference_duration_seconds_bucket",
        "mlgitops_serve_batch_rows_bucket",
    ]:
        assert expected in names

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run scripts/install-apt.sh prometheus")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == ""


def _request_lines(text: str) -> list[dict[str, object]]:
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [r for r in records if r.get("logger") == "serving.access"]


def test_one_json_line_per_request_on_stdout_and_in_log_file(iris_server: Server) -> None:
    headers = {"X-Request-ID": "log-check-1"}
    response = requests.post(
        iris_server.url + "/v2/models/iris/infer", json=REQUEST, headers=headers, timeout=10
    )
    assert response.headers["X-Request-ID"] == "log-check-1"
    log_file = Path(iris_server.env["LOG_FILE"])
    for text in (iris_server.log_text(), log_file.read_text()):
        (line,) = [r for r in _request_lines(text) if r["request_id"] == "log-check-1"]
        assert line["route"] == "/v2/models/<name>/infer"
        assert line["status"] == 200
        assert line["rows"] == 2
        assert line["level"] == "INFO"
        assert isinstance(line["latency_ms"], float)
        assert isinstance(line["time"], str)
