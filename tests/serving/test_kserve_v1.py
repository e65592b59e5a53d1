"""KServe v1 `:predict` and `/predict`: the first output, one prediction per instance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import requests

from tests.serving.conftest import Server


@pytest.mark.parametrize("path", ["/v1/models/iris:predict", "/predict"])
def test_predictions_equal_onnx_runtime(iris_server: Server, iris_model: Path, path: str) -> None:
    rows = np.random.default_rng(3).uniform(0, 8, (9, 4)).astype(np.float32)
    response = requests.post(iris_server.url + path, json={"instances": rows.tolist()}, timeout=10)
    assert response.status_code == 200, response.text
    session = ort.InferenceSession(str(iris_model), providers=["CPUExecutionProvider"])
    first = session.get_outputs()[0].name
    (labels,) = session.run([first], {"input": rows})
    assert response.json() == {"predictions": labels.tolist()}
