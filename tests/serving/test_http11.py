"""The worker's own HTTP/1.1 path (`serving.http11`): which requests it serves and which it
leaves to gunicorn, the environ it builds, and the responses it frames."""

from __future__ import annotations

import email.utils

import pytest

from serving import http11
from serving.framing import Progress, RequestScan

LIMITS = http11.Limits(divert=http11.FRAMING_AND_UPGRADES | {"X-FORWARDED-PROTO"})


def _parse(raw: bytes, limits: http11.Limits = LIMITS) -> http11.Request | None:
    scan = RequestScan(max_body=1 << 20)
    assert scan.feed(raw) is Progress.COMPLETE
    return http11.parse(scan.buffer, scan.head_end, scan.end, limits)


def _parsed(raw: bytes) -> http11.Request:
    request = _parse(raw)
    assert request is not None, raw
    return request


def test_an_ordinary_request_is_parsed_with_its_body_and_what_follows_it() -> None:
    raw = (
        b"POST /v2/models/iris/infer?x=1 HTTP/1.1\r\nHost: a:8080\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nX-Tag:  v \r\nX-Tag: w\r\n\r\n"
        b"{}GET / HTTP/1.1\r\n"
    )
    request = _parse(raw)
    assert request == http11.Request(
        method="POST",
        target="/v2/models/iris/infer?x=1",
        minor=1,
        headers=(
            ("HOST", "a:8080"),
            ("CONTENT-TYPE", "application/json"),
            ("CONTENT-LENGTH", "2"),
            ("X-TAG", "v"),
            ("X-TAG", "w"),
        ),
        body=b"{}",
        keep_alive=True,
        rest=b"GET / HTTP/1.1\r\n",
    )


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", True),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\n\r\n", False),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", True),
    ],
)
def test_keep_alive_follows_the_version_and_connection_options(
    head: bytes, keep_alive: bool
) -> None:
    request = _parsed(head)
    assert request.keep_alive is keep_alive


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"get / HTTP/1.1\r\n\r\n", id="lower-case-method"),
        pytest.param(b"GE / HTTP/1.1\r\n\r\n", id="short-method"),
        pytest.param(b"GET /a%20b HTTP/1.1\r\n\r\n", id="percent-encoded-path"),
        pytest.param(b"GET http://a/ HTTP/1.1\r\n\r\n", id="absolute-form"),
        pytest.param(b"GET * HTTP/1.1\r\n\r\n", id="asterisk-form"),
        pytest.param(b"GET / HTTP/2.0\r\n\r\n", id="other-version"),
        pytest.param(b"GET /  HTTP/1.1\r\n\r\n", id="two-spaces"),
        pytest.param(b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", id="non-ascii-target"),
        pytest.param(b"\r\nGET / HTTP/1.1\r\n\r\n", id="leading-empty-line"),
        pytest.param(b"GET / HTTP/1.1\nHost: a\n\n", id="bare-lf"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", id="bare-lf-inside"),
        pytest.param(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", id="space-before-colon"),
        pytest.param(b"GET / HTTP/1.1\r\nX_Y: a\r\n\r\n", id="underscore-in-name"),
        pytest.param(b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", id="obsolete-folding"),
        pytest.param(b"GET / HTTP/1.1\r\nX: \xe9\r\n\r\n", id="obs-text-value"),
        pytest.param(b"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", id="control-in-value"),
        pytest.param(b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n", id="upgrade"),
        pytest.param(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", id="connection-upgrade"),
        pytest.param(b"GET / HTTP/1.1\r\nX-Forwarded-Proto: https\r\n\r\n", id="diverted-field"),
        pytest.param(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", id="chunked"
        ),
        pytest.param(b"POST / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\nx", id="length-list"),
        pytest.param(
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
            id="repeated-length",
        ),
        pytest.param(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", id="repeated-host"),
        pytest.param(
            b"GET / HTTP/1.1\r\nContent-Type: a/b\r\ncontent-type: c/d\r\n\r\n",
            id="repeated-content-type",
        ),
        pytest.param(b"GET / HTTP/1.1\r\nExpect: foo\r\n\r\n", id="unknown-expectation"),
        pytest.param(b"CONNECT /x HTTP/1.1\r\n\r\n", id="connect"),
    ],
)
def test_anything_outside_the_subset_is_left_to_gunicorn(raw: bytes) -> None:
    assert _parse(raw) is None


def test_gunicorns_limits_send_requests_at_them_to_gunicorn() -> None:
    limits = http11.Limits(line=26, fields=2, field_size=12)
    assert _parse(b"GET /abcdefghijk HTTP/1.1\r\n\r\n", limits) is not None  # line of 25
    assert _parse(b"GET /abcdefghijkl HTTP/1.1\r\n\r\n", limits) is None  # line of 26
    # A field line counts with its CRLF, as in gunicorn.
    assert _parse(b"GET / HTTP/1.1\r\nA: 123456\r\n\r\n", limits) is not None  # 9 + 2
    assert _parse(b"GET / HTTP/1.1\r\nA: 1234567\r\n\r\n", limits) is None  # 10 + 2
    assert _parse(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", limits) is None  # 2 fields


def test_an_incomplete_request_is_not_parsed() -> None:
    scan = RequestScan(max_body=100)
    assert scan.feed(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab") is Progress.MORE
    assert http11.parse(scan.buffer, scan.head_end, scan.end, LIMITS) is None


def test_the_environ_has_the_keys_gunicorn_sets() -> None:
    request = _parsed(
        b"POST /v1/models/iris:predict?a=1&b HTTP/1.0\r\nHost: srv:8080\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nAccept: a\r\nAccept: b\r\n"
        b"User-Agent: t\r\n\r\n{}"
    )
    env = http11.environ(request, {"wsgi.version": (1, 0)}, ("10.0.0.9", 5123), ("0.0.0.0", 8080))
    assert env is not None
    assert env.pop("wsgi.input").read() == b"{}"
    assert env.pop(http11.BODY_KEY) == b"{}"
    assert env == {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/v1/models/iris:predict",
        "QUERY_STRING": "a=1&b",
        "RAW_URI": "/v1/models/iris:predict?a=1&b",
        "SERVER_PROTOCOL": "HTTP/1.0",
        "SERVER_NAME": "0.0.0.0",
        "SERVER_PORT": "8080",
        "REMOTE_ADDR": "10.0.0.9",
        "REMOTE_PORT": "5123",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "2",
        "HTTP_HOST": "srv:8080",
        "HTTP_ACCEPT": "a,b",
        "HTTP_USER_AGENT": "t",
    }


def test_a_script_name_is_taken_off_the_path_and_a_path_outside_it_is_refused() -> None:
    request = _parsed(b"GET /prefix/v2 HTTP/1.1\r\n\r\n")
    env = http11.environ(request, {}, ("h", 1), ("s", 2), script_name="/prefix")
    assert env is not None
    assert (env["SCRIPT_NAME"], env["PATH_INFO"]) == ("/prefix", "/v2")
    assert http11.environ(request, {}, ("h", 1), ("s", 2), script_name="/other") is None


def _head(data: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines)
    return status, fields, body


def test_a_response_is_framed_by_its_length_with_date_server_and_connection() -> None:
    request = _parsed(b"GET / HTTP/1.1\r\n\r\n")
    data, keep = http11.response(
        request, "200 OK", [("Content-Type", "text/plain"), ("X-A", " b ")], b"hello", True, "srv"
    )
    status, fields, body = _head(data)
    assert keep is True
    assert status == "HTTP/1.1 200 OK"
    assert body == b"hello"
    date = fields.pop("Date")
    assert email.utils.parsedate_to_datetime(date).tzname() == "UTC"
    assert fields == {
        "Content-Type": "text/plain",
        "X-A": "b",
        "Content-Length": "5",
        "Server": "srv",
        "Connection": "keep-alive",
    }


def test_head_204_and_304_carry_no_body_and_head_keeps_the_apps_length() -> None:
    head = _parsed(b"HEAD / HTTP/1.1\r\n\r\n")
    get = _parsed(b"GET / HTTP/1.1\r\n\r\n")
    data, _ = http11.response(head, "200 OK", [("Content-Length", "7")], b"", True, "s")
    assert _head(data)[1]["Content-Length"] == "7"
    assert _head(data)[2] == b""
    for status in ("204 No Content", "304 Not Modified"):
        data, keep = http11.response(get, status, [], b"", True, "s")
        assert "Content-Length" not in _head(data)[1]
        assert data.endswith(b"\r\n\r\n")
        assert keep is True


@pytest.mark.parametrize(
    ("raw", "allowed", "app_headers", "expected"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", False, [], "close"),  # a stopping worker
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", True, [], "close"),
        (b"GET / HTTP/1.0\r\n\r\n", True, [], "close"),
        (b"GET / HTTP/1.1\r\n\r\n", True, [("Connection", "close")], "close"),
        (b"GET / HTTP/1.1\r\n\r\n", True, [("Connection", "keep-alive")], "keep-alive"),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", True, [], "keep-alive"),
    ],
)
def test_the_connection_closes_when_the_worker_the_client_or_the_app_says_so(
    raw: bytes, allowed: bool, app_headers: list[tuple[str, str]], expected: str
) -> None:
    request = _parsed(raw)
    data, keep = http11.response(request, "200 OK", app_headers, b"x", allowed, "s")
    fields = _head(data)[1]
    assert fields["Connection"] == expected
    assert keep is (expected == "keep-alive")
    assert list(fields).count("Connection") == 1


def test_hop_by_hop_fields_from_the_app_are_dropped() -> None:
    request = _parsed(b"GET / HTTP/1.1\r\n\r\n")
    app_headers = [(name, "x") for name in ("Keep-Alive", "TE", "Trailers", "Upgrade", "Date")]
    data, _ = http11.response(request, "200 OK", [*app_headers, ("Server", "app")], b"", True, "s")
    fields = _head(data)[1]
    assert set(fields) == {"Content-Length", "Server", "Date", "Connection"}
    assert fields["Server"] == "s"
    assert fields["Date"] != "x"


def test_a_length_that_disagrees_with_the_body_closes_the_connection() -> None:
    request = _parsed(b"GET / HTTP/1.1\r\n\r\n")
    _, keep = http11.response(request, "200 OK", [("Content-Length", "3")], b"ab", True, "s")
    assert keep is False


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("OK", []),
        ("200 OK\r\nX: y", []),
        ("200 OK", [("Bad Name", "v")]),
        ("200 OK", [("X", "a\r\nInjected: 1")]),
    ],
)
def test_a_status_or_header_that_would_split_the_response_is_refused(
    status: str, headers: list[tuple[str, str]]
) -> None:
    request = _parsed(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(http11.ResponseError):
        http11.response(request, status, headers, b"", True, "s")


def test_the_date_is_the_imf_fixdate_of_the_second() -> None:
    assert http11.http_date(784111777.9) == "Sun, 06 Nov 1994 08:49:37 GMT"  # RFC 9110's example
