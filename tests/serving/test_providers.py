"""Asking for CUDA where there is none: a warning, then service on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import requests

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


def test_server_asked_for_cuda_serves_on_cpu(tmp_path: Path, iris_model: Path) -> None:
    server = start_server(
        tmp_path, iris_model, WORKERS="1", ORT_PROVIDERS=f"{CUDA},CPUExecutionProvider"
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
