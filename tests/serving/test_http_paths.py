"""The worker's own HTTP/1.1 path (`serving.http11`) answers exactly as gunicorn's does.

Each request is sent twice to the running server: as it is, which the own path serves, and
with `X-Forwarded-Proto: http` added, which sends it to gunicorn's parser and `Response` (the
field is one of gunicorn's secure-scheme headers, which it interprets by the peer's address;
from 127.0.0.1 it sets the scheme to http, the own path's scheme). The answers must agree in
status, fields (all but Date and X-Request-ID) and body. Which path answered shows in the
order of the fields: gunicorn writes Server first, the own path writes the application's
fields first."""

from __future__ import annotations

import http.client
import json
import socket
import struct

import pytest

from tests.serving.conftest import Server
from tests.serving.test_serving_worker import _responses

TENSOR = {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}
JSON_BODY = json.dumps({"inputs": [TENSOR]}).encode()
_BINARY_HEADER = json.dumps(
    {
        "inputs": [
            {
                "name": "input",
                "shape": [1, 4],
                "datatype": "FP32",
                "parameters": {"binary_data_size": 16},
            }
        ],
        "parameters": {"binary_data_output": True},
    }
).encode()
BINARY_BODY = _BINARY_HEADER + struct.pack("<4f", 5.1, 3.5, 1.4, 0.2)
V1_BODY = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()
VARYING = {"date", "x-request-id"}


def _request(
    method: str, target: str, body: bytes = b"", version: str = "1.1", **fields: str
) -> bytes:
    lines = [f"{method} {target} HTTP/{version}", "Host: test"]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


CASES = {
    "infer-json": _request(
        "POST", "/v2/models/iris/infer", JSON_BODY, Content_Type="application/json"
    ),
    "infer-binary": _request(
        "POST",
        "/v2/models/iris/infer",
        BINARY_BODY,
        Content_Type="application/octet-stream",
        Inference_Header_Content_Length=str(len(_BINARY_HEADER)),
    ),
    "infer-gzip-answer": _request(
        "POST", "/v2/models/iris/infer", JSON_BODY, Accept_Encoding="gzip"
    ),
    "infer-bad-json": _request("POST", "/v2/models/iris/infer", b"{nope"),
    "infer-wrong-model": _request("POST", "/v2/models/nosuch/infer", JSON_BODY),
    "v1-predict": _request("POST", "/v1/models/iris:predict", V1_BODY),
    "model-metadata": _request("GET", "/v2/models/iris"),
    "server-metadata-http10": _request("GET", "/v2", version="1.0"),
    "ready-with-query": _request("GET", "/v2/models/iris/ready?verbose=1"),
    "health-head": _request("HEAD", "/v2/health/live"),
    "not-found": _request("GET", "/v3/nothing"),
    "method-not-allowed": _request("DELETE", "/v2/models/iris/infer"),
    "options": _request("OPTIONS", "/v2/models/iris/infer"),
    "connection-close": _request("GET", "/v2/health/ready", Connection="close"),
}


def _divert(raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head + b"\r\nX-Forwarded-Proto: http\r\n\r\n" + body


def _exchange(server: Server, raw: bytes, method: str) -> tuple[int, list[tuple[str, str]], bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return response.status, response.getheaders(), response.read()


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_own_path_answers_as_gunicorn_does(iris_server: Server, case: str) -> None:
    raw = CASES[case]
    method = raw.split(b" ", 1)[0].decode()
    own = _exchange(iris_server, raw, method)
    gunicorn = _exchange(iris_server, _divert(raw), method)
    assert own[1][0][0] != "Server", "the own path did not serve the request"
    assert gunicorn[1][0][0] == "Server", "the diverted request was not served by gunicorn"

    def comparable(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return sorted(
            (name.lower(), value) for name, value in fields if name.lower() not in VARYING
        )

    assert (own[0], comparable(own[1]), own[2]) == (
        gunicorn[0],
        comparable(gunicorn[1]),
        gunicorn[2],
    )


def test_pipelined_requests_taking_both_paths_are_answered_in_order(iris_server: Server) -> None:
    raws = [
        CASES["infer-json"],
        _divert(CASES["model-metadata"]),
        CASES["infer-binary"],
        _divert(CASES["not-found"]),
        CASES["not-found"],
        CASES["model-metadata"],
    ]
    with socket.create_connection(("127.0.0.1", iris_server.port), timeout=10) as sock:
        sock.sendall(b"".join(raws))
        answers = _responses(sock, len(raws))
    assert [status for status, _ in answers] == [200, 200, 200, 404, 404, 200]
    assert answers[1][1] == answers[5][1]


GUNICORN_REFUSALS = {
    "latin1-digit-length": (
        b"POST /v2/health/ready HTTP/1.1\r\nContent-Length: \xb2\r\n\r\nxx",
        400,
    ),
    "space-before-colon": (b"GET /v2/health/ready HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400),
    "folded-length": (
        b"GET /v2/health/ready HTTP/1.1\r\nX-A: b\r\n Content-Length: 5\r\n\r\n",
        400,
    ),
    "vt-in-field": (b"GET /v2/health/ready HTTP/1.1\r\nX-A: b\x0bContent-Length: 5\r\n\r\n", 400),
    "repeated-host": (b"GET /v2/health/ready HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "repeated-content-type": (
        b"GET /v2/health/ready HTTP/1.1\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n",
        400,
    ),
    "unknown-expectation": (b"GET /v2/health/ready HTTP/1.1\r\nExpect: foo\r\n\r\n", 417),
    "length-list": (b"POST /v2/health/ready HTTP/1.1\r\nContent-Length: 1,1\r\n\r\nx", 400),
    "field-at-the-limit": (
        b"GET /v2/health/ready HTTP/1.1\r\nX-A: " + b"a" * 8184 + b"\r\n\r\n",
        431,
    ),
}


@pytest.mark.parametrize("case", sorted(GUNICORN_REFUSALS))
def test_what_gunicorn_refuses_is_refused_at_once_and_the_worker_lives_on(
    iris_server: Server, case: str
) -> None:
    """Requests outside the own path's subset get gunicorn's status without waiting for a body
    the framing scan would have expected, and leave the worker serving (a Content-Length of a
    non-ASCII digit once killed it)."""
    raw, status = GUNICORN_REFUSALS[case]
    with socket.create_connection(("127.0.0.1", iris_server.port), timeout=5) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == status
    assert _exchange(iris_server, CASES["model-metadata"], "GET")[0] == 200
    assert "Exception in worker process" not in iris_server.log_text()
