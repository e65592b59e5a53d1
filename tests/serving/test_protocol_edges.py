"""Requests the Open Inference Protocol allows are served, or refused with the protocol's own
error, never a 5xx: unknown-rank tensors, non-finite outputs, BF16, request-level
`binary_data_output`, strict booleans, trailing bytes, compressed bodies both ways, CORS.
Each against the real server with the clients users have (tritonclient, http.client)."""

from __future__ import annotations

import gzip
import http.client
import json
import math
import zlib
from collections.abc import Iterator
from typing import Any

import ml_dtypes
import numpy as np
import pytest
import tritonclient.http as httpclient

from serving import encoding
from tests.serving import models
from tests.serving.conftest import Server, start_server

LIMIT = 65536
ORIGIN = "https://ui.example"


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("edges")
    model = models.protocol_edges(tmp / "model.onnx")
    server = start_server(
        tmp,
        model,
        MODEL_NAME="edges",
        WORKERS="1",
        MAX_REQUEST_BYTES=str(LIMIT),
        CORS_ALLOWED_ORIGINS=ORIGIN,
    )
    yield server
    server.stop()


def _post(
    server: Server, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", "/v2/models/edges/infer", body=body, headers=headers or {})
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, answer


def _x(data: list[Any], shape: list[int]) -> dict[str, Any]:
    return {"name": "x", "datatype": "FP32", "shape": shape, "data": data}


B = {"name": "b", "datatype": "BF16", "shape": [1], "data": [1.0]}


def _infer(server: Server, doc: dict[str, Any]) -> dict[str, Any]:
    status, _, answer = _post(server, json.dumps(doc).encode())
    assert status == 200, answer
    result: dict[str, Any] = json.loads(answer)
    return result


def _outputs(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in result["outputs"]}


def test_unknown_rank_is_advertised_as_any_and_any_shape_is_served(edges: Server) -> None:
    client = httpclient.InferenceServerClient(edges.host)
    metadata = client.get_model_metadata("edges")
    shapes = {t["name"]: t["shape"] for t in metadata["inputs"] + metadata["outputs"]}
    assert shapes == {"x": [-1], "b": [-1], "y": [-1], "bo": [-1]}
    for shape in ([2, 3], [], [1, 1, 2]):
        data = list(range(math.prod(shape)))
        y = _outputs(_infer(edges, {"inputs": [_x(data, shape), B]}))["y"]
        assert (y["shape"], y["data"]) == (shape, data)


def test_non_finite_outputs_come_back_in_json(edges: Server) -> None:
    """Bare NaN / Infinity tokens, as requests may send them: lossless, and read by Python's
    json and by tritonclient (python-rapidjson)."""
    values = [math.inf, -math.inf, math.nan, 1.5]
    status, _, answer = _post(edges, json.dumps({"inputs": [_x(values, [4]), B]}).encode())
    assert status == 200
    assert b"[Infinity,-Infinity,NaN,1.5]" in answer
    client = httpclient.InferenceServerClient(edges.host)
    x = httpclient.InferInput("x", [4], "FP32")
    x.set_data_from_numpy(np.array(values, dtype=np.float32), binary_data=False)
    b = httpclient.InferInput("b", [1], "BF16")
    b.set_data_from_numpy(np.array([1.0], dtype=ml_dtypes.bfloat16), binary_data=True)
    result = client.infer("edges", [x, b], outputs=[httpclient.InferRequestedOutput("y", False)])
    got = result.as_numpy("y")
    assert got is not None
    np.testing.assert_array_equal(got, np.array(values, dtype=np.float32))


def test_bf16_in_json_and_binary(edges: Server) -> None:
    values = [1.5, -2.0, math.inf, 3.140625]
    doc = {"inputs": [_x([0], [1]), {**B, "shape": [4], "data": values}]}
    assert _outputs(_infer(edges, doc))["bo"]["data"] == values

    raw = np.array(values, dtype=ml_dtypes.bfloat16).tobytes()
    head = json.dumps(
        {
            "inputs": [
                _x([0], [1]),
                {
                    "name": "b",
                    "datatype": "BF16",
                    "shape": [4],
                    "parameters": {"binary_data_size": 8},
                },
            ],
            "outputs": [{"name": "bo", "parameters": {"binary_data": True}}],
        }
    ).encode()
    status, headers, answer = _post(
        edges, head + raw, {"Inference-Header-Content-Length": str(len(head))}
    )
    assert status == 200, answer
    json_length = int(headers["inference-header-content-length"])
    (bo,) = json.loads(answer[:json_length])["outputs"]
    assert (bo["datatype"], bo["parameters"]) == ("BF16", {"binary_data_size": 8})
    assert answer[json_length:] == raw


def test_binary_data_output_at_request_level_applies_to_unlisted_outputs(edges: Server) -> None:
    doc = {"inputs": [_x([1.0, 2.0], [2]), B], "parameters": {"binary_data_output": True}}
    status, headers, answer = _post(edges, json.dumps(doc).encode())
    assert status == 200
    json_length = int(headers["inference-header-content-length"])
    outputs = _outputs(json.loads(answer[:json_length]))
    assert outputs["y"]["parameters"] == {"binary_data_size": 8}
    assert outputs["bo"]["parameters"] == {"binary_data_size": 2}
    assert answer[json_length : json_length + 8] == np.array([1, 2], np.float32).tobytes()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param(
            {"outputs": [{"name": "y", "parameters": {"binary_data": "false"}}]},
            "output 'y': parameters: 'binary_data' must be true or false, got \"false\"",
            id="binary-data-string",
        ),
        pytest.param(
            {"parameters": {"binary_data_output": 1}},
            "parameters: 'binary_data_output' must be true or false, got 1",
            id="binary-data-output-number",
        ),
    ],
)
def test_non_boolean_flags_are_refused(edges: Server, doc: dict[str, Any], message: str) -> None:
    status, _, answer = _post(edges, json.dumps({"inputs": [_x([1.0], [1]), B], **doc}).encode())
    assert (status, json.loads(answer)) == (400, {"error": message})


def test_bytes_after_the_last_binary_input_are_refused(edges: Server) -> None:
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": "x",
                    "datatype": "FP32",
                    "shape": [1],
                    "parameters": {"binary_data_size": 4},
                },
                B,
            ]
        }
    ).encode()
    body = head + np.float32(1).tobytes() + b"junk"
    status, _, answer = _post(edges, body, {"Inference-Header-Content-Length": str(len(head))})
    assert status == 400
    assert json.loads(answer)["error"].startswith("4 bytes follow the last binary input")


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_tritonclient_compressed_requests_and_answers(edges: Server, algorithm: str) -> None:
    client = httpclient.InferenceServerClient(edges.host)
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = httpclient.InferInput("x", [3, 4], "FP32")
    x.set_data_from_numpy(data)
    b = httpclient.InferInput("b", [1], "BF16")
    b.set_data_from_numpy(np.array([2.0], dtype=ml_dtypes.bfloat16))
    result = client.infer(
        "edges",
        [x, b],
        request_compression_algorithm=algorithm,
        response_compression_algorithm=algorithm,
    )
    got = result.as_numpy("y")
    assert got is not None
    np.testing.assert_array_equal(got, data)
    assert result.get_response()["model_name"] == "edges"


def test_answers_are_compressed_only_when_asked(edges: Server) -> None:
    body = json.dumps({"inputs": [_x([1.0], [1]), B]}).encode()
    plain = _post(edges, body)
    packed = _post(edges, body, {"Accept-Encoding": "br;q=1, gzip;q=0.5"})
    assert "content-encoding" not in plain[1]
    assert packed[1]["content-encoding"] == "gzip"
    assert gzip.decompress(packed[2]) == plain[2]


def test_a_body_over_the_limit_once_decompressed_gets_413(edges: Server) -> None:
    bomb = gzip.compress(b"[" + b"0," * LIMIT + b"0]")
    assert len(bomb) < LIMIT
    status, _, answer = _post(edges, bomb, {"Content-Encoding": "gzip"})
    assert status == 413
    assert json.loads(answer) == {
        "error": f"request body is larger than {LIMIT} bytes once decompressed"
    }


@pytest.mark.parametrize(
    ("coding", "body", "status"),
    [
        pytest.param("br", b"x", 415, id="unsupported"),
        pytest.param("gzip", b"not gzip", 400, id="corrupt"),
        pytest.param("gzip", gzip.compress(b"{}")[:-6], 400, id="truncated"),
    ],
)
def test_bad_content_encodings_get_4xx(
    edges: Server, coding: str, body: bytes, status: int
) -> None:
    got, _, answer = _post(edges, body, {"Content-Encoding": coding})
    assert got == status, answer
    assert "error" in json.loads(answer)


def test_raw_deflate_is_read_too() -> None:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = packer.compress(b"hello") + packer.flush()
    assert encoding.decode_body(raw, "deflate", 100) == b"hello"


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, None),
        ("identity", None),
        ("gzip", "gzip"),
        ("deflate, gzip", "gzip"),
        ("deflate;q=1, gzip;q=0.5", "deflate"),
        ("gzip;q=0", None),
        ("*", None),
    ],
)
def test_response_coding(header: str | None, coding: str | None) -> None:
    assert encoding.response_coding(header) == coding


def test_cors_preflight_and_answers_for_allowed_origins_only(edges: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", edges.port, timeout=30)
    connection.request(
        "OPTIONS",
        "/v2/models/edges/infer",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    preflight = connection.getresponse()
    preflight.read()
    connection.close()
    assert preflight.status == 204
    assert preflight.getheader("Access-Control-Allow-Origin") == ORIGIN
    assert preflight.getheader("Access-Control-Allow-Methods") == "GET, POST, OPTIONS"
    assert preflight.getheader("Access-Control-Allow-Headers") == "content-type"
    body = json.dumps({"inputs": [_x([1.0], [1]), B]}).encode()
    status, headers, _ = _post(edges, body, {"Origin": ORIGIN})
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "Inference-Header-Content-Length" in headers["access-control-expose-headers"]
    _, other, _ = _post(edges, body, {"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other


def test_cors_is_off_by_default(iris_server: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", iris_server.port, timeout=30)
    connection.request("GET", "/v2/health/ready", headers={"Origin": ORIGIN})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200
    assert response.getheader("Access-Control-Allow-Origin") is None
