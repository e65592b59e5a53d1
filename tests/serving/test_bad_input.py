"""Every class of bad input gets its status code and an error that names the problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.serving import models
from tests.serving.conftest import Server, start_server

INFER = "/v2/models/iris/infer"


def _tensor(**changes: object) -> dict[str, object]:
    tensor: dict[str, object] = {
        "name": "input",
        "shape": [1, 4],
        "datatype": "FP32",
        "data": [5.1, 3.5, 1.4, 0.2],
    }
    tensor.update(changes)
    return tensor


def _error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]
    return message


@pytest.mark.parametrize(
    ("tensor", "expected"),
    [
        pytest.param(_tensor(shape=[1, 5], data=[1] * 5), "wrong shape [1, 5]", id="shape"),
        pytest.param(_tensor(datatype="FP64"), "wrong datatype FP64", id="datatype"),
        pytest.param(_tensor(datatype="COMPLEX"), "unknown datatype 'COMPLEX'", id="no-such-type"),
        pytest.param(_tensor(data=[1, 2, 3]), "data has 3 elements but shape", id="length"),
        pytest.param(_tensor(data=["a", "b", "c", "d"]), "does not hold FP32", id="values"),
        pytest.param(_tensor(name="features"), "'features' is not an input", id="unknown-input"),
    ],
)
def test_bad_tensor_is_400_naming_the_input(
    iris_server: Server, tensor: dict[str, object], expected: str
) -> None:
    response = requests.post(iris_server.url + INFER, json={"inputs": [tensor]}, timeout=10)
    message = _error(response, 400)
    assert expected in message
    assert "'input'" in message or "'features'" in message


def test_missing_input_is_400(iris_server: Server) -> None:
    response = requests.post(iris_server.url + INFER, json={"inputs": []}, timeout=10)
    assert _error(response, 400) == "missing input: 'input'"


def test_unparsable_json_is_400(iris_server: Server) -> None:
    response = requests.post(iris_server.url + INFER, data=b'{"inputs": [', timeout=10)
    assert "not valid JSON" in _error(response, 400)


def test_unknown_output_is_400(iris_server: Server) -> None:
    body = {"inputs": [_tensor()], "outputs": [{"name": "logits"}]}
    response = requests.post(iris_server.url + INFER, json=body, timeout=10)
    assert "output 'logits' is not an output" in _error(response, 400)


@pytest.mark.parametrize(
    "path",
    [
        "/v2/models/wine/infer",
        "/v2/models/iris/versions/9/infer",
        "/v1/models/wine:predict",
    ],
)
def test_unknown_model_or_version_is_404(iris_server: Server, path: str) -> None:
    response = requests.post(iris_server.url + path, json={"inputs": [_tensor()]}, timeout=10)
    assert "is not served here" in _error(response, 404)


def test_unknown_model_metadata_is_404(iris_server: Server) -> None:
    assert requests.get(iris_server.url + "/v2/models/wine", timeout=10).status_code == 404
    assert requests.get(iris_server.url + "/v2/models/wine/ready", timeout=10).status_code == 404


def test_body_over_max_request_bytes_is_413(iris_server: Server) -> None:
    rows = 65536 // 16
    big = _tensor(shape=[rows, 4], data=[1.0] * (rows * 4))
    body = json.dumps({"inputs": [big]}).encode()
    assert len(body) > 65536
    response = requests.post(iris_server.url + INFER, data=body, timeout=10)
    assert "larger than 65536 bytes" in _error(response, 413)


@pytest.fixture(scope="module")
def broken_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("broken")
    server = start_server(tmp, models.broken(tmp / "model.onnx"), wait_ready=False)
    yield server
    server.stop()


def test_model_that_fails_to_load_is_live_but_not_ready(broken_server: Server) -> None:
    url = broken_server.url
    assert requests.get(url + "/v2/health/live", timeout=10).status_code == 200
    assert requests.get(url + "/v2/health/ready", timeout=10).status_code == 503
    assert requests.get(url + "/v2/models/iris/ready", timeout=10).status_code == 503
    response = requests.post(url + INFER, json={"inputs": [_tensor()]}, timeout=10)
    assert "model 'iris' is not ready" in _error(response, 503)
    response = requests.post(url + "/predict", json={"instances": [[1, 2, 3, 4]]}, timeout=10)
    _error(response, 503)
    records = [json.loads(line) for line in broken_server.log_text().splitlines()]
    reasons = [r["message"] for r in records if r["level"] == "ERROR"]
    assert any("could not be loaded" in m and str(Path("model.onnx")) in m for m in reasons)
    assert broken_server.process.poll() is None


def test_v1_bad_instances_are_400(iris_server: Server) -> None:
    for body, message in [
        ({"instances": []}, "'instances' must be a non-empty list"),
        ({"instances": [[1, 2, 3]]}, "wrong shape [1, 3]"),
        ({"rows": [[1, 2, 3, 4]]}, "'instances' must be"),
    ]:
        response = requests.post(iris_server.url + "/predict", json=body, timeout=10)
        assert message in _error(response, 400)
