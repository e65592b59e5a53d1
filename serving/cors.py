"""Cross-origin resource sharing (the Fetch standard's CORS protocol) for browser clients.

Off unless CORS_ALLOWED_ORIGINS lists origins (or `*`). Then a request from an allowed origin
gets `Access-Control-Allow-Origin` (and the headers a client needs to read binary answers
exposed), and a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 with
the methods and headers allowed, without reaching the application. Requests from other origins
are served as before, without CORS headers: the browser then withholds the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from serving.codecs import BINARY_HEADER

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ALLOWED_METHODS = "GET, POST, OPTIONS"
EXPOSED_HEADERS = f"{BINARY_HEADER}, X-Request-ID, Content-Encoding"
PREFLIGHT_MAX_AGE = "600"


class CorsMiddleware:
    """WSGI middleware adding CORS headers for `origins` (`*` allows any origin)."""

    def __init__(self, app: WsgiApp, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(o.rstrip("/") for o in origins)
        self.any_origin = "*" in self.origins

    def allowed(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if not origin or not self.allowed(origin):
            return self.app(environ, start_response)
        allow = [
            ("Access-Control-Allow-Origin", "*" if self.any_origin else origin),
            ("Vary", "Origin"),
        ]
        method = environ.get("REQUEST_METHOD")
        if method == "OPTIONS" and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"):
            requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "")
            headers = [
                *allow,
                ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
                ("Content-Length", "0"),
            ]
            if requested:
                headers.append(("Access-Control-Allow-Headers", requested))
            start_response("204 NO CONTENT", headers)
            return [b""]
        allow.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))

        def with_cors(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            return start_response(status, [*headers, *allow], *args)

        return self.app(environ, with_cors)
