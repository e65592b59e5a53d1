"""A real Open Inference Protocol client (tritonclient) against the real server; every result
must equal ONNX Runtime called directly on the same file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as httpclient

from tests.serving import models
from tests.serving.conftest import EXAMPLES, Server, start_server

# Triton's wire datatypes for the numpy dtypes ONNX Runtime returns.
NUMPY = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": np.object_,
}


def _direct(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


def test_health_and_server_metadata(iris_server: Server) -> None:
    client = httpclient.InferenceServerClient(iris_server.host)
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready("iris")
    assert client.is_model_ready("iris", "1")
    assert not client.is_model_ready("iris", "2")
    assert client.get_server_metadata()["name"] == "mlgitops-serve"


def test_model_metadata_reports_the_onnx_signature(iris_server: Server) -> None:
    client = httpclient.InferenceServerClient(iris_server.host)
    metadata = client.get_model_metadata("iris", "1")
    assert metadata["versions"] == ["1"]
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}]
    assert metadata["outputs"] == [
        {"name": "label", "datatype": "INT64", "shape": [-1]},
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]},
    ]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_iris_inference_equals_onnx_runtime(
    iris_server: Server, iris_model: Path, binary: bool
) -> None:
    rows = np.random.default_rng(1).uniform(0, 8, (17, 4)).astype(np.float32)
    client = httpclient.InferenceServerClient(iris_server.host)
    tensor = httpclient.InferInput("input", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows, binary_data=binary)
    outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("label",)]
    result = client.infer("iris", [tensor], outputs=outputs, request_id="req-7")
    expected = _direct(iris_model, {"input": rows})
    np.testing.assert_array_equal(result.as_numpy("label"), expected["label"])
    assert result.as_numpy("probabilities") is None
    assert result.get_response()["id"] == "req-7"


@pytest.fixture(scope="module")
def example_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    present = {name: path for name, path in EXAMPLES.items() if path.exists()}
    servers = {
        name: start_server(tmp_path_factory.mktemp(name), path, MODEL_NAME=name, WORKERS="1")
        for name, path in present.items()
    }
    yield servers
    for server in servers.values():
        server.stop()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_model_equals_onnx_runtime(
    example_servers: dict[str, Server], name: str
) -> None:
    if name not in example_servers:
        pytest.fail(f"example model {EXAMPLES[name]} is missing")
    client = httpclient.InferenceServerClient(example_servers[name].host)
    metadata = client.get_model_metadata(name)
    (spec,) = metadata["inputs"]
    width = spec["shape"][1]
    rows = np.random.default_rng(2).uniform(0, 1, (5, width)).astype(NUMPY[spec["datatype"]])
    tensor = httpclient.InferInput(spec["name"], list(rows.shape), spec["datatype"])
    tensor.set_data_from_numpy(rows)
    result = client.infer(name, [tensor])
    expected = _direct(EXAMPLES[name], {spec["name"]: rows})
    for output, value in expected.items():
        np.testing.assert_array_equal(result.as_numpy(output), value)


@pytest.fixture(scope="module")
def all_types_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("all-types")
    server = start_server(tmp, models.identity_all_types(tmp / "model.onnx"), WORKERS="1")
    yield server
    server.stop()


def _sample(datatype: str) -> np.ndarray:
    if datatype == "BYTES":
        return np.array([[b"a", b"bc"], [b"", "é".encode()]], dtype=np.object_)
    if datatype == "BOOL":
        return np.array([[True, False], [False, True]])
    return np.array([[0, 1], [2, 127]], dtype=NUMPY[datatype])


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("datatype", sorted(models.ELEMENT_TYPES))
def test_every_datatype_round_trips(all_types_server: Server, datatype: str, binary: bool) -> None:
    client = httpclient.InferenceServerClient(all_types_server.host)
    inputs = []
    for name in models.ELEMENT_TYPES:
        tensor = httpclient.InferInput(f"in_{name}", [2, 2], name)
        tensor.set_data_from_numpy(_sample(name), binary_data=binary)
        inputs.append(tensor)
    wanted = httpclient.InferRequestedOutput(f"out_{datatype}", binary_data=binary)
    result = client.infer("iris", inputs, outputs=[wanted])
    got = result.as_numpy(f"out_{datatype}")
    if datatype == "BYTES" and not binary:
        # JSON carries BYTES as text; tritonclient hands it back as str.
        got = np.vectorize(lambda s: s.encode(), otypes=[object])(got)
    np.testing.assert_array_equal(got, _sample(datatype))
