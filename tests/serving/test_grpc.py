"""The Open Inference Protocol's gRPC API: tritonclient.grpc gets what tritonclient.http gets
from the same server, on every test model, and shares errors, limits, metrics, logs and
readiness with HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest
import requests
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

import serving.oip_grpc
from tests.serving import models
from tests.serving.conftest import EXAMPLES, Server, start_server

MODELS: dict[str, Callable[[Path], Path]] = {
    **{name: (lambda _, path=path: path) for name, path in EXAMPLES.items()},
    "identity-all-types": lambda d: models.identity_all_types(d / "model.onnx"),
    "protocol-edges": lambda d: models.protocol_edges(d / "model.onnx"),
}
LIMIT = 1 << 20


@pytest.fixture(scope="module", params=sorted(MODELS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp(request.param)
    server = start_server(
        tmp,
        MODELS[request.param](tmp),
        MODEL_NAME="m",
        WORKERS="1",
        MAX_REQUEST_BYTES=str(LIMIT),
        LOG_FILE=str(tmp / "serving.log"),
    )
    yield server
    server.stop()


def _array(datatype: str, shape: list[int], rng: np.random.Generator) -> np.ndarray:
    if datatype == "BYTES":
        return np.array([f"s{i}é" for i in range(int(np.prod(shape)))], dtype=np.object_).reshape(
            shape
        )
    if datatype == "BOOL":
        return rng.integers(0, 2, shape).astype(bool)
    if datatype == "BF16":
        return rng.normal(size=shape).astype(ml_dtypes.bfloat16)
    dtype = np.dtype(
        {"FP16": np.float16, "FP32": np.float32, "FP64": np.float64}.get(datatype)
        or datatype.lower()
    )
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return rng.normal(size=shape).astype(dtype)


def _inputs(metadata: dict[str, Any]) -> dict[str, tuple[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    out = {}
    for tensor in metadata["inputs"]:
        shape = [2 if d == -1 else int(d) for d in tensor["shape"]]
        out[tensor["name"]] = (tensor["datatype"], _array(tensor["datatype"], shape, rng))
    return out


def test_grpc_answers_as_http_does(served: Server) -> None:
    http = httpclient.InferenceServerClient(served.host)
    grpc = grpcclient.InferenceServerClient(served.grpc_host)
    assert grpc.is_server_live() and grpc.is_server_ready() and grpc.is_model_ready("m")
    metadata = http.get_model_metadata("m")
    grpc_metadata = grpc.get_model_metadata("m", as_json=True)
    for key in ("inputs", "outputs"):
        got = [{**t, "shape": [int(d) for d in t["shape"]]} for t in grpc_metadata[key]]
        assert got == metadata[key]
    assert grpc.get_server_metadata(as_json=True)["name"] == "mlgitops-serve"

    feeds = _inputs(metadata)
    http_inputs, grpc_inputs = [], []
    for name, (datatype, array) in feeds.items():
        http_inputs.append(httpclient.InferInput(name, list(array.shape), datatype))
        http_inputs[-1].set_data_from_numpy(array)
        grpc_inputs.append(grpcclient.InferInput(name, list(array.shape), datatype))
        grpc_inputs[-1].set_data_from_numpy(array)
    by_http = http.infer("m", http_inputs, request_id="r1")
    by_grpc = grpc.infer("m", grpc_inputs, request_id="r1")
    assert by_grpc.get_response(as_json=True)["id"] == "r1"
    for output in metadata["outputs"]:
        want, got = by_http.as_numpy(output["name"]), by_grpc.as_numpy(output["name"])
        assert want is not None and got is not None
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_grpc_errors_are_the_protocols(iris_grpc: Server) -> None:
    grpc = grpcclient.InferenceServerClient(iris_grpc.grpc_host)
    with pytest.raises(InferenceServerException) as missing:
        grpc.get_model_metadata("nope")
    assert missing.value.status() == "StatusCode.NOT_FOUND"
    assert "model 'nope' is not served here" in missing.value.message()

    wrong = grpcclient.InferInput("input", [1, 3], "FP32")
    wrong.set_data_from_numpy(np.zeros((1, 3), np.float32))
    with pytest.raises(InferenceServerException) as shape:
        grpc.infer("iris", [wrong])
    assert shape.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "wrong shape [1, 3], the model expects [-1, 4]" in shape.value.message()

    rows = LIMIT // 16 + 1
    big = grpcclient.InferInput("input", [rows, 4], "FP32")
    big.set_data_from_numpy(np.zeros((rows, 4), np.float32))
    with pytest.raises(InferenceServerException) as large:
        grpc.infer("iris", [big])
    assert large.value.status() == "StatusCode.RESOURCE_EXHAUSTED"


@pytest.fixture(scope="module")
def iris_grpc(tmp_path_factory: pytest.TempPathFactory, iris_model: Path) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("iris-grpc")
    server = start_server(
        tmp,
        iris_model,
        WORKERS="2",
        MAX_REQUEST_BYTES=str(LIMIT),
        LOG_FILE=str(tmp / "serving.log"),
    )
    yield server
    server.stop()


def test_grpc_calls_share_http_metrics_and_logs(iris_grpc: Server) -> None:
    grpc = grpcclient.InferenceServerClient(iris_grpc.grpc_host)
    features = grpcclient.InferInput("input", [3, 4], "FP32")
    features.set_data_from_numpy(np.ones((3, 4), np.float32))
    grpc.infer("iris", [features], headers={"x-request-id": "grpc-call-1"})
    text = requests.get(iris_grpc.url + "/metrics", timeout=10).text
    route = "/inference.GRPCInferenceService/ModelInfer"
    assert f'mlgitops_serve_requests_total{{method="GRPC",route="{route}",status="200"}}' in text
    assert 'mlgitops_serve_batch_rows_count{model="iris"}' in text
    log = Path(iris_grpc.env["LOG_FILE"]).read_text()
    lines = [json.loads(line) for line in log.splitlines() if "grpc-call-1" in line]
    assert [(r["route"], r["status"], r["rows"]) for r in lines] == [(route, 200, 3)]


def test_grpc_reports_not_ready_while_draining_and_stops_with_http(
    tmp_path: Path, iris_model: Path
) -> None:
    server = start_server(tmp_path, iris_model, WORKERS="1", DRAIN_SECONDS="3")
    grpc = grpcclient.InferenceServerClient(server.grpc_host)
    features = grpcclient.InferInput("input", [1, 4], "FP32")
    features.set_data_from_numpy(np.ones((1, 4), np.float32))
    assert grpc.is_server_ready()
    os.killpg(server.process.pid, signal.SIGTERM)
    while grpc.is_server_ready():
        time.sleep(0.05)
    # Draining: not ready, still serving.
    assert grpc.infer("iris", [features]).as_numpy("label") is not None
    assert server.process.wait(timeout=60) == 0
    with pytest.raises(InferenceServerException):
        grpc.is_server_live()


def test_committed_stubs_are_what_grpcio_tools_generates(tmp_path: Path) -> None:
    """The generated code is committed (serving/oip_grpc/__init__.py says why); `make
    grpc-stubs` rewrites it from the proto."""
    from grpc_tools import protoc

    package = Path(__file__).resolve().parents[2] / "serving" / "oip_grpc"
    target = tmp_path / "serving" / "oip_grpc"
    target.mkdir(parents=True)
    proto = target / "open_inference_grpc.proto"
    proto.write_bytes((package / proto.name).read_bytes())
    args = ["protoc", "-I", str(tmp_path), f"--python_out={tmp_path}", f"--pyi_out={tmp_path}"]
    args += [f"--grpc_python_out={tmp_path}", str(proto)]
    assert protoc.main(args) == 0
    generated = sorted(p.name for p in target.glob("*_pb2*"))
    assert generated == sorted(p.name for p in package.glob("*_pb2*"))
    for name in generated:
        assert (target / name).read_text() == (package / name).read_text(), name


def test_our_servicer_implements_every_rpc_the_generated_base_leaves_unimplemented() -> None:
    """grpcio-tools' generated base class answers every RPC with UNIMPLEMENTED (its methods
    raise NotImplementedError); ours must override each RPC the proto declares."""
    # Read from the proto itself: importing the generated module here would clash with
    # tritonclient's copy of the same "inference" package in this process's descriptor pool,
    # and importing serving.grpc_api imports it, so that runs in a child interpreter.
    proto = Path(serving.oip_grpc.__file__).with_name("open_inference_grpc.proto").read_text()
    declared = set(re.findall(r"^\s*rpc (\w+)\(", proto, flags=re.MULTILINE))
    assert declared == {
        "ServerLive",
        "ServerReady",
        "ModelReady",
        "ServerMetadata",
        "ModelMetadata",
        "ModelInfer",
    }
    overridden = subprocess.run(
        [
            sys.executable,
            "-c",
            "from serving.grpc_api import InferenceServicer as S; print(' '.join(sorted(vars(S))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert declared <= set(overridden), declared - set(overridden)
