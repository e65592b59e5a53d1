"""The worker's own path for ordinary HTTP/1.1 requests: parse a request that has arrived in
full, build its WSGI environ, and write the whole response in one send.

Why it exists: under load, gunicorn's per-request machinery (its pure-Python parser, `Request`
and `Response` objects, `wsgi.create`, a formatted `Date` per response, two writes) cost the
worker about as much CPU as the application itself (docs/serving.md has the profile). This
module does the same job for the common case with a few string operations, because the worker
(`serving.worker`) has already read the request's bytes and knows where it ends
(`serving.framing`).

It is a fast path, not a second HTTP implementation: `parse` accepts only a strict subset of
RFC 9112 and answers None for anything else, and the worker hands such a request to gunicorn's
parser unchanged, so every refusal (400, 414, 431, 501), every unusual form (percent-encoded
paths, absolute-form targets, chunked bodies, obsolete line folding, bare LF line ends,
upgrades, proxy and scheme headers, header names with underscores) and every limit keeps
gunicorn's answer. Accepted:

- a request line `METHOD SP origin-form SP HTTP/1.0|1.1`, METHOD 3 to 20 upper-case letters,
  the target printable ASCII starting with `/` without `%` or `#`, the line shorter than
  `limit_request_line`;
- CRLF-terminated field lines `name: value`, name an RFC 9110 token without `_`, value visible
  ASCII, spaces and tabs; fewer than `limit_request_fields`, each with its CRLF shorter than
  `limit_request_field_size`; Host and Content-Type at most once; Expect only as
  `100-continue`; not CONNECT;
- a body delimited by one Content-Length of ASCII digits, or none.

Connection options are read from every Connection field, as RFC 9110 section 7.6.1 has them
(`Connection: keep-alive, close` closes); gunicorn closes only on an exact `close` in the first
one. This is the one intended difference between the two paths.

Response side: the status line echoes the request's HTTP version; hop-by-hop headers from the
application are dropped (`Connection: close` from it is honoured); `Date`, `Server` and
`Connection` are added as gunicorn adds them; the body is framed by Content-Length (counted
when the application gave none), never chunked, because the whole body is in hand.
"""

from __future__ import annotations

import email.utils
import io
import re
import time
from dataclasses import dataclass
from typing import Any

# RFC 9110 section 5.6.2 token characters, without "_" (gunicorn drops such fields).
_TOKEN = r"[!#$%&'*+.^`|~0-9A-Za-z-]+"
_REQUEST_LINE = re.compile(r"([A-Z]{3,20}) (/[!-~]*) HTTP/1\.([01])")
_FIELD_LINE = re.compile(rf"({_TOKEN}):[ \t]*([ \t!-~]*?)[ \t]*")
_RESPONSE_NAME = re.compile(_TOKEN.replace("-9A", "-9_A"))
_RESPONSE_VALUE = re.compile(r"[ \t!-~\x80-\xff]*")
_STATUS = re.compile(r"[0-9]{3}(?: [ \t!-~\x80-\xff]*)?")
# Fields whose presence always sends a request to gunicorn: framing this path does not do and
# protocol switches. The worker adds the fields whose meaning gunicorn decides by the peer's
# address (its `secure_scheme_headers` and `forwarder_headers`).
FRAMING_AND_UPGRADES = frozenset({"TRANSFER-ENCODING", "UPGRADE", "HTTP2-SETTINGS"})
# Fields a request may carry once (RFC 9110 section 5.3 singletons, as gunicorn enforces them,
# and Content-Length): a second one goes to gunicorn, which refuses it.
_SINGLETONS = frozenset({"HOST", "CONTENT-TYPE", "CONTENT-LENGTH"})
# RFC 9110 section 7.6.1 connection options and the fields gunicorn also keeps for itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "server",
        "date",
    }
)


BODY_KEY = "mlgitops.body"
"""The environ key holding the whole request body as bytes (a PEP 3333 server extension), set
beside `wsgi.input` so the application need not read it through a stream."""


@dataclass(frozen=True)
class Limits:
    """What sends a request to gunicorn besides its syntax: its request limits (the
    `limit_request_*` settings; a request at or over one is refused there with gunicorn's own
    status) and `divert`, upper-case field names whose presence does."""

    line: int = 8190
    fields: int = 100
    field_size: int = 8190
    divert: frozenset[str] = FRAMING_AND_UPGRADES


@dataclass(frozen=True)
class Request:
    """One parsed request. `headers` are (NAME in upper case, value) in arrival order; `rest`
    is what the client sent after this request (the start of a pipelined one)."""

    method: str
    target: str
    minor: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    keep_alive: bool
    rest: bytes


def parse(buffer: bytes | bytearray, head_end: int, end: int, limits: Limits) -> Request | None:
    """The request in `buffer[:end]`, whose head ends at `head_end` (just past its blank line),
    or None when it is outside the subset this path serves (see the module docstring).

    `head_end` and `end` are `serving.framing.RequestScan`'s offsets; `end` < 0 (the client
    closed before the request was complete) gives None."""
    if end < 0 or head_end < 4 or buffer[head_end - 4 : head_end] != b"\r\n\r\n":
        return None
    head = bytes(buffer[: head_end - 4])
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return None
    # A bare CR or LF fails the line patterns below.
    lines = text.split("\r\n")
    line = lines[0]
    if len(line) >= limits.line or len(lines) - 1 >= limits.fields:
        return None
    matched = _REQUEST_LINE.fullmatch(line)
    if matched is None or "%" in line or "#" in line:
        return None
    method, target, minor_text = matched.groups()
    if method == "CONNECT":
        return None
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    connection = ""
    for field_line in lines[1:]:
        # gunicorn counts the line's CRLF against limit_request_field_size.
        if len(field_line) + 2 >= limits.field_size:
            return None
        found = _FIELD_LINE.fullmatch(field_line)
        if found is None:
            return None
        name = found.group(1).upper()
        value = found.group(2)
        if name in limits.divert or (name in _SINGLETONS and name in seen):
            return None
        seen.add(name)
        if name == "CONTENT-LENGTH" and not (value.isascii() and value.isdigit()):
            return None
        if name == "EXPECT" and value.lower() != "100-continue":
            return None  # gunicorn answers 417
        if name == "CONNECTION":
            connection = f"{connection},{value.lower()}"
        headers.append((name, value))
    options = {option.strip() for option in connection.split(",")}
    if "upgrade" in options:
        return None
    minor = int(minor_text)
    keep_alive = "close" not in options and (minor == 1 or "keep-alive" in options)
    return Request(
        method=method,
        target=target,
        minor=minor,
        headers=tuple(headers),
        body=bytes(buffer[head_end:end]),
        keep_alive=keep_alive,
        rest=bytes(buffer[end:]),
    )


def environ(
    request: Request,
    base: dict[str, Any],
    client: Any,
    server: Any,
    script_name: str = "",
) -> dict[str, Any] | None:
    """The PEP 3333 environ for `request`, on top of `base` (the per-worker keys: `wsgi.*`,
    SERVER_SOFTWARE), with the keys gunicorn's `wsgi.create` sets for the same request; None
    when the path does not start with `script_name` (gunicorn's answer is then an error).

    `client` and `server` are the peer's and the listener's (host, port) addresses, or a path
    for a Unix socket."""
    path, _, query = request.target.partition("?")
    if script_name:
        if not path.startswith(script_name):
            return None
        path = path[len(script_name) :]
    env = dict(base)
    env["wsgi.input"] = io.BytesIO(request.body)
    env[BODY_KEY] = request.body
    env["REQUEST_METHOD"] = request.method
    env["QUERY_STRING"] = query
    env["RAW_URI"] = request.target
    env["SERVER_PROTOCOL"] = f"HTTP/1.{request.minor}"
    env["PATH_INFO"] = path
    env["SCRIPT_NAME"] = script_name
    env["wsgi.url_scheme"] = "http"
    host = None
    repeated: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name == "CONTENT-TYPE":
            env["CONTENT_TYPE"] = value
            continue
        if name == "CONTENT-LENGTH":
            env["CONTENT_LENGTH"] = value
            continue
        if name == "HOST":
            host = value
        key = "HTTP_" + name.replace("-", "_")
        if key in env:
            repeated.setdefault(key, [env[key]]).append(value)
        else:
            env[key] = value
    for key, values in repeated.items():
        env[key] = ",".join(values)
    if isinstance(client, (str, bytes)):
        env["REMOTE_ADDR"] = client.decode() if isinstance(client, bytes) else client
    else:
        env["REMOTE_ADDR"] = client[0]
        env["REMOTE_PORT"] = str(client[1])
    if isinstance(server, str):
        # A Unix socket: the Host field names the server, as gunicorn does.
        name, _, port = (host or "").partition(":")
        env["SERVER_NAME"], env["SERVER_PORT"] = name, port or ("80" if host else "")
    else:
        env["SERVER_NAME"], env["SERVER_PORT"] = str(server[0]), str(server[1])
    return env


_date_cache: tuple[int, str] = (0, "")


def http_date(now: float | None = None) -> str:
    """RFC 9110 section 5.6.7 IMF-fixdate for `now` (seconds since the epoch, default the
    current time), formatted once per second."""
    global _date_cache
    second = int(time.time() if now is None else now)
    if _date_cache[0] != second:
        _date_cache = (second, email.utils.formatdate(second, usegmt=True))
    return _date_cache[1]


class ResponseError(ValueError):
    """The application's status or headers cannot be sent (PEP 3333 and RFC 9110 syntax)."""


def response(
    request: Request,
    status: str,
    headers: list[tuple[str, str]],
    body: bytes,
    keep_alive: bool,
    server_software: str,
) -> tuple[bytes, bool]:
    """(the bytes of the whole response, whether the connection stays open) for the
    application's `status` ("200 OK"), `headers` and `body`, sent to `request`.

    `keep_alive` is what the worker allows (it is False while the worker stops). No body is
    sent for HEAD, 1xx, 204 and 304; Content-Length is the application's, else the body's.

    Raises ResponseError for a malformed status line or header (the worker answers 500)."""
    if not _STATUS.fullmatch(status):
        raise ResponseError(f"invalid status {status!r}")
    code = int(status[:3])
    keep_alive = keep_alive and request.keep_alive
    lines = [f"HTTP/1.{request.minor} {status}\r\n"]
    length: str | None = None
    for name, value in headers:
        if not _RESPONSE_NAME.fullmatch(name):
            raise ResponseError(f"invalid response header name {name!r}")
        if not _RESPONSE_VALUE.fullmatch(value):
            raise ResponseError(f"invalid value for response header {name!r}")
        value = value.strip(" \t")
        lower = name.lower()
        if lower == "content-length":
            length = value
            continue
        if lower in HOP_BY_HOP:
            if lower == "connection" and "close" in value.lower():
                keep_alive = False
            continue
        lines.append(f"{name}: {value}\r\n")
    bodiless = request.method == "HEAD" or code < 200 or code in (204, 304)
    if length is None and not bodiless:
        length = str(len(body))
    if length is not None:
        lines.append(f"Content-Length: {length}\r\n")
    if not bodiless and length != str(len(body)):
        # The application's Content-Length disagrees with its body: close after it, so that a
        # wrong length cannot shift the next response.
        keep_alive = False
    lines.append(f"Server: {server_software}\r\nDate: {http_date()}\r\n")
    lines.append("Connection: keep-alive\r\n\r\n" if keep_alive else "Connection: close\r\n\r\n")
    data = "".join(lines).encode("latin-1")
    return (data if bodiless else data + body), keep_alive
