"""Asking for CUDA where there is none: a warning; then, unless ORT_ALLOW_FALLBACK=true, a
server that is not ready (a GPU deployment must not quietly compute on the CPU), and in every
case the active execution provider in /metrics.

No GPU here: the CPU build of onnxruntime has no CUDA provider, which is the path a GPU image
takes when the CUDA provider cannot start (no device, driver mismatch)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import requests

from serving.lifecycle import provider_problem
from serving.model import choose_providers
from tests.serving.conftest import start_server

CUDA = "CUDAExecutionProvider"


def test_unavailable_provider_falls_back_to_cpu(caplog: pytest.LogCaptureFixture) -> None:
    if CUDA in ort.get_available_providers():
        pytest.fail("this test checks the CPU-only path; this onnxruntime build has CUDA")
    with caplog.at_level("WARNING"):
        assert choose_providers([CUDA, "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
        assert choose_providers([CUDA]) == ["CPUExecutionProvider"]
    assert f"execution provider {CUDA} was requested but is not available" in caplog.text


def test_server_asked_for_cuda_serves_on_cpu_when_fallback_is_allowed(
    tmp_path: Path, iris_model: Path
) -> None:
    server = start_server(
        tmp_path,
        iris_model,
        WORKERS="1",
        ORT_PROVIDERS=f"{CUDA},CPUExecutionProvider",
        ORT_ALLOW_FALLBACK="true",
    )
    try:
        body = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1] * 4}]}
        response = requests.post(server.url + "/v2/models/iris/infer", json=body, timeout=10)
        assert response.status_code == 200
        session = ort.InferenceSession(str(iris_model), providers=["CPUExecutionProvider"])
        (label,) = session.run(["label"], {"input": np.ones((1, 4), dtype=np.float32)})
        assert response.json()["outputs"][0]["data"] == label.tolist()
    finally:
        assert server.stop() == 0
    records = [json.loads(line) for line in server.log_text().splitlines()]
    warnings = [r["message"] for r in records if r["level"] == "WARNING"]
    assert any(f"{CUDA} was requested but is not available" in m for m in warnings)
    loaded = [r["message"] for r in records if "loaded from" in r["message"]]
    assert loaded and "with providers CPUExecutionProvider" in loaded[0]


def provider_samples(metrics_text: str) -> dict[str, float]:
    """provider -> value of mlgitops_serve_execution_provider, parsed by prometheus-client."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["provider"]: sample.value
        for family in text_string_to_metric_families(metrics_text)
        if family.name == "mlgitops_serve_execution_provider"
        for sample in family.samples
    }


def test_cuda_unavailable_leaves_the_server_not_ready_and_says_so(
    tmp_path: Path, iris_model: Path
) -> None:
    server = start_server(
        tmp_path,
        iris_model,
        wait_ready=False,
        WORKERS="2",
        ORT_PROVIDERS=f"{CUDA},CPUExecutionProvider",
    )
    try:
        # Both workers loaded (each logs it): from then on only the provider holds readiness.
        for _ in range(600):
            if server.log_text().count("loaded from") == 2:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the two workers never loaded the model:\n" + server.log_text())
        ready = requests.get(server.url + "/v2/health/ready", timeout=10)
        model_ready = requests.get(server.url + "/v2/models/iris/ready", timeout=10)
        live = requests.get(server.url + "/v2/health/live", timeout=10)
        metrics = requests.get(server.url + "/metrics", timeout=10).text
    finally:
        assert server.stop() == 0
    assert (ready.status_code, model_ready.status_code, live.status_code) == (503, 503, 200)
    assert provider_samples(metrics) == {CUDA: 0.0, "CPUExecutionProvider": 1.0}
    assert 'mlgitops_serve_model_ready{model="iris"} 0.0' in metrics
    errors = [
        json.loads(line)["message"]
        for line in server.log_text().splitlines()
        if line.startswith("{") and json.loads(line)["level"] == "ERROR"
    ]
    assert (
        f"model iris: execution provider {CUDA} is not active (running on "
        "CPUExecutionProvider); not ready, since ORT_ALLOW_FALLBACK is false"
    ) in errors


def test_a_cpu_deployment_reports_its_provider_and_is_ready(
    tmp_path: Path, iris_model: Path
) -> None:
    server = start_server(tmp_path, iris_model, WORKERS="1")
    try:
        metrics = requests.get(server.url + "/metrics", timeout=10).text
    finally:
        assert server.stop() == 0
    assert provider_samples(metrics) == {"CPUExecutionProvider": 1.0}


@pytest.mark.parametrize(
    ("requested", "active", "allow", "ready"),
    [
        ((CUDA, "CPUExecutionProvider"), [CUDA, "CPUExecutionProvider"], False, True),
        ((CUDA, "CPUExecutionProvider"), ["CPUExecutionProvider"], False, False),
        ((CUDA, "CPUExecutionProvider"), ["CPUExecutionProvider"], True, True),
        (("CPUExecutionProvider",), ["CPUExecutionProvider"], False, True),
        ((CUDA,), [], False, False),
    ],
)
def test_readiness_needs_the_first_requested_provider(
    requested: tuple[str, ...], active: list[str], allow: bool, ready: bool
) -> None:
    assert (provider_problem(requested, active, allow) == "") is ready
