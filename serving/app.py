"""The Flask application factory: routes, error translation, per-request metrics and logs."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Response, g, request

from serving import observe
from serving.cors import CorsMiddleware
from serving.dataplane import DataPlane
from serving.fastpath import InferenceFastPath
from serving.rest import api
from serving.settings import Settings


def _error(status: int, message: str) -> Response:
    return Response(observe.error_body(message), status=status, mimetype="application/json")


def create_app(
    settings: Settings,
    *,
    plane: DataPlane | None = None,
    serving: Callable[[], bool] = lambda: True,
) -> Flask:
    """Build the app and load the model (unless a loaded data plane is passed in).

    The inference routes are answered by `InferenceFastPath` in front of Flask's WSGI app; it
    shares the data plane, error translation, metrics and access log with the routes here.
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    if plane is None:
        plane = DataPlane(settings, serving=serving)
        plane.load()
    app.extensions["dataplane"] = plane
    app.extensions["settings"] = settings
    app.register_blueprint(api)
    app.wsgi_app = InferenceFastPath(app.wsgi_app, plane, settings)  # type: ignore[method-assign]
    if settings.cors_allowed_origins:
        app.wsgi_app = CorsMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, settings.cors_allowed_origins
        )

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()
        g.request_id = observe.begin(request.environ, settings)

    @app.after_request
    def record(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        request_id = g.get("request_id", "")
        observe.finish(
            method=req.method,
            path=req.path,
            route=req.url_rule.rule if req.url_rule is not None else "unmatched",
            status=response.status_code,
            started=g.get("started", time.perf_counter()),
            request_id=request_id,
            rows=g.get("rows"),
        )
        response.headers["X-Request-ID"] = request_id
        if "Accept-Encoding" in req.headers and not response.direct_passthrough:
            body, headers = observe.compress(req.environ, response.get_data(), [])
            if headers:
                response.set_data(body)
                for key, value in headers:
                    response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def error(e: Exception) -> Response:
        return _error(*observe.translate(e, settings, request.method, request.path))

    return app
