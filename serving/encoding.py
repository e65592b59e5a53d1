"""HTTP content codings (RFC 9110 section 8.4): compressed request bodies in, compressed
responses out when the client asks.

tritonclient sends `Content-Encoding: gzip` or `deflate` bodies when given
`request_compression_algorithm`, and asks for compressed answers with `Accept-Encoding` when
given `response_compression_algorithm`. MAX_REQUEST_BYTES bounds the body after decompression
too, so a small compressed body cannot expand without limit (a "zip bomb").
"""

from __future__ import annotations

import gzip
import zlib

from serving.errors import BadRequest, PayloadTooLarge, ServingError

CODINGS = ("gzip", "deflate")
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class UnsupportedEncoding(ServingError):
    """A request body in a content coding this server does not read."""

    status_code = 415


def decode_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body with its content codings undone (applied last first), at most `limit` bytes.

    Raises PayloadTooLarge past `limit`, UnsupportedEncoding (415) for a coding other than
    gzip, deflate and identity, BadRequest for data that does not decompress."""
    if not content_encoding:
        return body
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        wbits = _WBITS.get(coding)
        if wbits is None:
            raise UnsupportedEncoding(
                f"Content-Encoding {coding!r} is not supported (use gzip, deflate or identity)"
            )
        body = _inflate(body, coding, wbits, limit)
    return body


def _inflate(data: bytes, coding: str, wbits: int, limit: int) -> bytes:
    # "deflate" is meant to be zlib-wrapped (RFC 9110), but some clients send raw deflate.
    attempts = [wbits, -zlib.MAX_WBITS] if coding == "deflate" else [wbits]
    for index, bits in enumerate(attempts):
        inflater = zlib.decompressobj(bits)
        try:
            out = inflater.decompress(data, limit + 1)
        except zlib.error as e:
            if index + 1 < len(attempts):
                continue
            raise BadRequest(f"request body is not valid {coding} data: {e}") from e
        if len(out) > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes once decompressed")
        if not inflater.eof:
            raise BadRequest(f"request body is not valid {coding} data: it ends early")
        return out
    raise AssertionError("unreachable")


def response_coding(accept_encoding: str | None) -> str | None:
    """The coding to answer in: the client's most preferred of gzip and deflate (q > 0), or
    None for no compression."""
    if not accept_encoding:
        return None
    best: tuple[float, int, str] | None = None
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if name not in CODINGS:
            continue
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        rank = (quality, -CODINGS.index(name), name)
        if quality > 0 and (best is None or rank > best):
            best = rank
    return None if best is None else best[2]


def encode_body(body: bytes, coding: str) -> bytes:
    """Compress a response body (level 1: these are answers, speed over ratio)."""
    if coding == "gzip":
        return gzip.compress(body, compresslevel=1, mtime=0)
    return zlib.compress(body, 1)
