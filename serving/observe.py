"""What every request goes through, whichever path serves it: request id, body timeout, error
translation, metrics and the JSON access log line.

The Flask hooks and the inference fast path (`serving.fastpath`) both call these functions, so
the two paths cannot drift apart in status codes, error bodies, metrics or log fields.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from werkzeug.exceptions import ClientDisconnected, HTTPException
from werkzeug.wsgi import get_input_stream

from serving import codecs, encoding, http11, logs, metrics
from serving.errors import ServingError
from serving.settings import Settings

access_log = logging.getLogger("serving.access")
# The name errors were logged under before this module existed.
log = logging.getLogger("serving.app")

REQUEST_ID_KEY = "HTTP_X_REQUEST_ID"


def begin(environ: dict[str, Any], settings: Settings) -> str:
    """Arm the body timeout and return the request id (the client's, or a new one)."""
    # gunicorn reads bodies with blocking, timeout-less sockets: without this, a client that
    # stalls mid-body holds a worker thread for good.
    client = environ.get("gunicorn.socket")
    if client is not None:
        client.settimeout(settings.body_timeout)
    request_id: str = environ.get(REQUEST_ID_KEY) or secrets.token_hex(16)
    return request_id


def read_body(environ: dict[str, Any], settings: Settings) -> bytes:
    """The request body, decompressed when it has a Content-Encoding; MAX_REQUEST_BYTES bounds
    it as sent and once decompressed."""
    limit = settings.max_request_bytes
    body: bytes | None = environ.get(http11.BODY_KEY)
    if body is None or len(body) > limit:
        # Read through werkzeug, which refuses a body over the limit with 413.
        body = get_input_stream(environ, max_content_length=limit).read()
    return encoding.decode_body(body, environ.get("HTTP_CONTENT_ENCODING"), limit)


def compress(
    environ: dict[str, Any], body: bytes, headers: list[tuple[str, str]]
) -> tuple[bytes, list[tuple[str, str]]]:
    """The body and headers as the client asked for them (Accept-Encoding)."""
    coding = encoding.response_coding(environ.get("HTTP_ACCEPT_ENCODING")) if body else None
    if coding is None:
        return body, headers
    body = encoding.encode_body(body, coding)
    kept = [(k, v) for k, v in headers if k != "Content-Length"]
    return body, [
        *kept,
        ("Content-Length", str(len(body))),
        ("Content-Encoding", coding),
        ("Vary", "Accept-Encoding"),
    ]


def error_body(message: str) -> bytes:
    return codecs.dumps({"error": message})


def translate(error: BaseException, settings: Settings, method: str, path: str) -> tuple[int, str]:
    """The status and message a client gets for an error raised while serving it."""
    if isinstance(error, ServingError):
        return error.status_code, error.message
    if isinstance(error, HTTPException):
        if isinstance(error, ClientDisconnected):
            # The body stopped arriving for BODY_TIMEOUT, or the client left.
            timeout = settings.body_timeout
            return 408, f"request body incomplete or not received within {timeout:g} s"
        status = error.code or 500
        if status == 413:
            return 413, f"request body is larger than {settings.max_request_bytes} bytes"
        return status, error.description or error.name
    log.error("unexpected error on %s %s", method, path, exc_info=error)
    return 500, f"internal error: {type(error).__name__}"


def finish(
    *,
    method: str,
    path: str,
    route: str,
    status: int,
    started: float,
    request_id: str,
    rows: int | None,
) -> None:
    """Count the request and write its access log line."""
    elapsed = time.perf_counter() - started
    metrics.observe_request(route, method, status, elapsed)
    if access_log.isEnabledFor(logging.INFO):
        fields = {
            "request_id": request_id,
            "method": method,
            "route": route,
            "status": status,
            "latency_ms": round(elapsed * 1000, 3),
            "rows": rows,
        }
        message = f"{method} {path} {status}"
        access_log.handle(logs.JsonLineRecord(access_log.name, logging.INFO, message, fields))
