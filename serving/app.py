"""The Flask application factory: routes, error translation, per-request metrics and logs."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, request
from werkzeug.exceptions import ClientDisconnected, HTTPException

from serving import codecs, metrics
from serving.dataplane import DataPlane
from serving.errors import ServingError
from serving.rest import api
from serving.settings import Settings

access_log = logging.getLogger("serving.access")
log = logging.getLogger(__name__)


def _error(message: str, status: int) -> Response:
    return Response(codecs.dumps({"error": message}), status=status, mimetype="application/json")


def create_app(
    settings: Settings,
    *,
    plane: DataPlane | None = None,
    draining: Callable[[], bool] = lambda: False,
) -> Flask:
    """Build the app and load the model (unless a loaded data plane is passed in)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    if plane is None:
        plane = DataPlane(settings, draining=draining)
        plane.load()
    app.extensions["dataplane"] = plane
    app.register_blueprint(api)

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        # gunicorn reads bodies with blocking, timeout-less sockets: without this, a client that
        # stalls mid-body holds a worker thread for good.
        client = request.environ.get("gunicorn.socket")
        if client is not None:
            client.settimeout(settings.body_timeout)
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex

    @app.after_request
    def record(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        metrics.REQUEST_LATENCY.labels(route).observe(elapsed)
        request_id = g.get("request_id", "")
        response.headers["X-Request-ID"] = request_id
        access_log.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "latency_ms": round(elapsed * 1000, 3),
                "rows": g.get("rows"),
            },
        )
        return response

    @app.errorhandler(ServingError)
    def serving_error(e: ServingError) -> Response:
        return _error(e.message, e.status_code)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        status = e.code or 500
        if isinstance(e, ClientDisconnected):
            # The body stopped arriving for BODY_TIMEOUT, or the client left.
            return _error(
                f"request body incomplete or not received within {settings.body_timeout:g} s", 408
            )
        if status == 413:
            return _error(f"request body is larger than {settings.max_request_bytes} bytes", 413)
        return _error(e.description or e.name, status)

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error(f"internal error: {type(e).__name__}", 500)

    return app
