"""The inference fast path answers exactly as the Flask routes behind it would: same status,
headers, body and access log line, and it leaves every other request to Flask."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask

from serving.app import create_app
from serving.fastpath import InferenceFastPath, match
from serving.settings import Settings

ROW = [5.1, 3.5, 1.4, 0.2]


def _body(rows: int = 1, **extra: Any) -> bytes:
    tensor = {"name": "input", "shape": [rows, 4], "datatype": "FP32", "data": ROW * rows}
    return json.dumps({"inputs": [tensor], **extra}).encode()


_BINARY_HEAD = json.dumps(
    {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32",
                 "parameters": {"binary_data_size": 16}}]}
).encode()  # fmt: skip

# (path, body, extra environ)
CASES: dict[str, tuple[str, bytes, dict[str, str]]] = {
    "v2": ("/v2/models/iris/infer", _body(2, id="r1"), {}),
    "v2-versioned": ("/v2/models/iris/versions/1/infer", _body(), {}),
    "v2-wrong-version": ("/v2/models/iris/versions/2/infer", _body(), {}),
    "v2-wrong-model": ("/v2/models/wine/infer", _body(), {}),
    "v2-bad-json": ("/v2/models/iris/infer", b'{"inputs": [', {}),
    "v2-bad-shape": ("/v2/models/iris/infer", _body().replace(b"[1, 4]", b"[1, 5]"), {}),
    "v2-nan": (
        "/v2/models/iris/infer",
        b'{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[NaN,1,2,3]}]}',
        {},
    ),
    "v2-binary-out": (
        "/v2/models/iris/infer",
        _body(outputs=[{"name": "probabilities", "parameters": {"binary_data": True}}]),
        {},
    ),
    "v2-binary-in": (
        "/v2/models/iris/infer",
        _BINARY_HEAD + np.ones(4, np.float32).tobytes(),
        {"HTTP_INFERENCE_HEADER_CONTENT_LENGTH": str(len(_BINARY_HEAD))},
    ),
    "v2-too-large": ("/v2/models/iris/infer", _body(100), {}),
    "v2-request-id": ("/v2/models/iris/infer", _body(), {"HTTP_X_REQUEST_ID": "abc"}),
    "v1": ("/v1/models/iris:predict", b'{"instances": [[1, 2, 3, 4], [4, 3, 2, 1]]}', {}),
    "v1-wrong-model": ("/v1/models/ir:is:predict", b'{"instances": [[1, 2, 3, 4]]}', {}),
    "predict": ("/predict", b'{"instances": [[1, 2, 3, 4]]}', {}),
    "predict-bad": ("/predict", b'{"instances": []}', {}),
}


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def app(iris_model: Path) -> Flask:
    settings = Settings(model_path=str(iris_model), model_name="iris", max_request_bytes=1024)
    return create_app(settings)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("serving.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def _call(wsgi: Any, path: str, body: bytes, extra: dict[str, str]) -> dict[str, Any]:
    environ = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        **extra,
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer["status"] = status
        answer["headers"] = headers

    chunks = wsgi(environ, start_response)
    answer["body"] = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return answer


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = ("request_id", "method", "route", "status", "rows")
    return {"message": record.getMessage(), **{f: getattr(record, f) for f in fields}}


@pytest.mark.parametrize("case", CASES)
def test_fast_path_answers_as_flask_does(app: Flask, records: Records, case: str) -> None:
    path, body, extra = CASES[case]
    fast_path = app.wsgi_app
    assert isinstance(fast_path, InferenceFastPath)
    # Both sides get the same request id, so that headers and log lines compare whole.
    extra = {"HTTP_X_REQUEST_ID": "same-id", **extra}
    fast = _call(fast_path, path, body, extra)
    flask = _call(fast_path.app, path, body, extra)
    assert fast == flask
    fast_line, flask_line = (_access_fields(r) for r in records.records)
    assert fast_line == flask_line


def test_only_inference_posts_take_the_fast_path() -> None:
    assert match("/v2/models/iris/infer") == ("/v2/models/<name>/infer", "iris", None)
    assert match("/v2/models/iris/versions/3/infer") == (
        "/v2/models/<name>/versions/<version>/infer",
        "iris",
        "3",
    )
    assert match("/v1/models/a:b:predict") == ("/v1/models/<name>:predict", "a:b", None)
    assert match("/predict") == ("/predict", None, None)
    for other in [
        "/v2/models/iris/infer/",
        "/v2/models//infer",
        "//v2/models/iris/infer",
        "/v2/models/iris/ready",
        "/v2/models/iris/versions/infer",
        "/predict/",
        "/v1/models/:predict",
    ]:
        assert match(other) is None, other


def test_a_generated_request_id_is_echoed_and_logged(app: Flask, records: Records) -> None:
    answer = _call(app.wsgi_app, "/v2/models/iris/infer", _body(), {})
    (request_id,) = [v for k, v in answer["headers"] if k == "X-Request-ID"]
    assert len(request_id) == 32
    assert records.records[-1].request_id == request_id  # type: ignore[attr-defined]
