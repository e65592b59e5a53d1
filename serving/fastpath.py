"""A WSGI dispatcher in front of Flask for the inference routes, the only hot ones.

Flask's request machinery (contexts, proxies, routing, response objects) costs several times
what answering an inference request needs. This dispatcher answers exactly the requests that
Flask would route to the inference endpoints in `serving.rest` (same routes, same labels), with
the same data plane calls, error translation, metrics and access log (`serving.observe`); any
other request, or anything it is not sure about, goes to Flask unchanged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from serving import observe
from serving.codecs import BINARY_HEADER
from serving.dataplane import DataPlane
from serving.settings import Settings

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# The route templates are Flask's url_rule strings: they are the `route` label and log field.
V2_INFER = "/v2/models/<name>/infer"
V2_VERSION_INFER = "/v2/models/<name>/versions/<version>/infer"
V1_PREDICT = "/v1/models/<name>:predict"
PREDICT = "/predict"
# Werkzeug's default converter matches one non-empty path segment.
_V2 = re.compile(r"/v2/models/([^/]+)/(?:versions/([^/]+)/)?infer")
_V1 = re.compile(r"/v1/models/([^/]+):predict")
_BINARY_KEY = "HTTP_" + BINARY_HEADER.upper().replace("-", "_")
JSON = "application/json"
BINARY = "application/octet-stream"


def status_line(code: int) -> str:
    """The status line werkzeug writes for a code."""
    return f"{code} {HTTP_STATUS_CODES.get(code, 'unknown').upper()}"


def match(path: str) -> tuple[str, str | None, str | None] | None:
    """(route template, name, version) of an inference route, or None for anything else."""
    if path == PREDICT:
        return PREDICT, None, None
    found = _V2.fullmatch(path)
    if found is not None:
        name, version = found.groups()
        return (V2_INFER if version is None else V2_VERSION_INFER), name, version
    found = _V1.fullmatch(path)
    if found is not None:
        return V1_PREDICT, found.group(1), None
    return None


class InferenceFastPath:
    """WSGI middleware: serves POSTs to the inference routes, hands everything else to `app`."""

    def __init__(self, app: WsgiApp, plane: DataPlane, settings: Settings) -> None:
        self.app = app
        self.plane = plane
        self.settings = settings
        self._status_lines: dict[int, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO") or ""
        # Non-ASCII paths need werkzeug's decoding: leave them, and every other method, to Flask.
        if environ.get("REQUEST_METHOD") != "POST" or not path.isascii():
            return self.app(environ, start_response)
        matched = match(path)
        if matched is None:
            return self.app(environ, start_response)
        route, name, version = matched
        started = time.perf_counter()
        request_id = observe.begin(environ, self.settings)
        rows: int | None = None
        headers: list[tuple[str, str]]
        try:
            body = observe.read_body(environ, self.settings)
            content_type = JSON
            extra: list[tuple[str, str]] = []
            if route in (V2_INFER, V2_VERSION_INFER):
                assert name is not None
                out, json_length, rows = self.plane.infer(
                    name, version, body, environ.get(_BINARY_KEY)
                )
                if json_length is not None:
                    content_type = BINARY
                    extra = [(BINARY_HEADER, str(json_length))]
            else:
                out, rows = self.plane.predict_v1(name, body)
            status = 200
        except Exception as e:
            status, message = observe.translate(e, self.settings, "POST", path)
            out, content_type, extra, rows = observe.error_body(message), JSON, [], None
        headers = [("Content-Type", content_type), ("Content-Length", str(len(out))), *extra]
        headers.append(("X-Request-ID", request_id))
        if "HTTP_ACCEPT_ENCODING" in environ:
            out, headers = observe.compress(environ, out, headers)
        observe.finish(
            method="POST",
            path=path,
            route=route,
            status=status,
            started=started,
            request_id=request_id,
            rows=rows,
        )
        start_response(self._status(status), headers)
        return [out]

    def _status(self, code: int) -> str:
        line = self._status_lines.get(code)
        if line is None:
            line = self._status_lines[code] = status_line(code)
        return line
