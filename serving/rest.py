"""Thin HTTP endpoints: read the path and body, call the data plane, write the response.

Open Inference Protocol v2 and KServe v1 routes, health and metrics. No endpoint decides a
status code for an error; errors are raised and turned into JSON by the app's handler.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from serving import metrics, observe
from serving.codecs import BINARY_HEADER
from serving.dataplane import DataPlane
from serving.settings import Settings

JSON = "application/json"
api = Blueprint("api", __name__)


def _plane() -> DataPlane:
    plane: DataPlane = current_app.extensions["dataplane"]
    return plane


def _body() -> bytes:
    settings: Settings = current_app.extensions["settings"]
    return observe.read_body(request.environ, settings)


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype=JSON)


def _status_only(ok: bool) -> Response:
    return Response(b"", status=200 if ok else 503)


@api.get("/v2/health/live")
def live() -> Response:
    return _status_only(True)


@api.get("/v2/health/ready")
def ready() -> Response:
    return _status_only(_plane().ready())


@api.get("/v2", strict_slashes=False)
def server_metadata() -> Response:
    return _json(_plane().server_metadata())


@api.get("/v2/models/<name>")
@api.get("/v2/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None = None) -> Response:
    return _json(_plane().model_metadata(name, version))


@api.get("/v2/models/<name>/ready")
@api.get("/v2/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None = None) -> Response:
    return _status_only(_plane().model_ready(name, version))


@api.post("/v2/models/<name>/infer")
@api.post("/v2/models/<name>/versions/<version>/infer")
def infer(name: str, version: str | None = None) -> Response:
    body, json_length, rows = _plane().infer(
        name, version, _body(), request.headers.get(BINARY_HEADER)
    )
    g.rows = rows
    response = _json(body)
    if json_length is not None:
        response.mimetype = "application/octet-stream"
        response.headers[BINARY_HEADER] = str(json_length)
    return response


@api.post("/v2/models/<name>/feedback")
@api.post("/v2/models/<name>/versions/<version>/feedback")
def feedback(name: str, version: str | None = None) -> Response:
    return _json(
        _plane().feedback(name, version, request.get_data(), request.headers.get(BINARY_HEADER))
    )


@api.post("/v1/models/<name>:predict")
def predict_v1(name: str) -> Response:
    body, g.rows = _plane().predict_v1(name, _body())
    return _json(body)


@api.post("/predict")
def predict() -> Response:
    body, g.rows = _plane().predict_v1(None, _body())
    return _json(body)


@api.get("/metrics")
def prometheus_metrics() -> Response:
    _plane().ready()
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
