"""Where an HTTP/1.1 request ends: enough of RFC 9112's message framing to know when a request's
head and body have arrived in full, without interpreting them.

The worker (`serving.worker`) collects each request's bytes in its event loop and hands the
request to the application only once `RequestScan.feed` says it is complete, so a slow or
stalled client holds a file descriptor, never a thread. Anything this module does not
understand (conflicting or malformed framing headers) counts as complete: gunicorn's parser
then meets it and answers 400, as it always did.

Framing rules (RFC 9112 section 6): a body is delimited by `Transfer-Encoding: chunked` (the
final coding) or by `Content-Length`; a request with neither has no body. Chunk sizes are hex,
optionally followed by `;extensions`; the last chunk has size 0 and is followed by optional
trailer fields and a blank line.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

HEAD_LIMIT_BYTES = 64 * 1024
"""A head (request line and fields) longer than this without its blank line gets 431."""
_CHUNK_LINE_LIMIT = 4096
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class Progress(enum.Enum):
    """What the bytes received so far amount to."""

    MORE = "more"
    COMPLETE = "complete"
    HEAD_TOO_LARGE = "head too large"
    BODY_TOO_LARGE = "body too large"


def head_end(data: bytes | bytearray) -> int:
    """Offset just past the blank line ending the head, or -1 while it has not arrived."""
    ends = [(i, len(end)) for end in _HEAD_ENDS if (i := data.find(end)) >= 0]
    if not ends:
        return -1
    index, size = min(ends)
    return index + size


def head_complete(data: bytes | bytearray) -> bool:
    """Whether `data`, the start of a request, holds the whole head."""
    return head_end(data) >= 0


@dataclass
class Framing:
    """How a request's body is delimited, read from its head. `known` is False when the
    framing fields are malformed or conflict (gunicorn refuses such requests)."""

    known: bool = True
    length: int = 0
    chunked: bool = False
    expect_continue: bool = False


def read_framing(head: bytes | bytearray) -> Framing:
    """The framing fields of a request head (its bytes up to and including the blank line).

    Lines end at LF (a CR before it is dropped), as in gunicorn's parser; any other control
    character is part of a line. A field line this cannot read as gunicorn would (a name with
    white space around it, an obsolete folded line, a Content-Length that is not ASCII
    digits) makes the framing unknown: the request then counts as complete and gunicorn's
    parser answers it."""
    lengths: set[str] = set()
    codings: list[str] = []
    framing = Framing()
    for raw in bytes(head).split(b"\n")[1:]:
        line = raw.removesuffix(b"\r").decode("latin-1")
        if not line:
            continue
        name, sep, value = line.partition(":")
        if line[0] in " \t" or (sep and name != name.strip()):
            framing.known = False
            continue
        key = name.lower()
        if key == "content-length":
            lengths.update(v.strip() for v in value.split(","))
        elif key == "transfer-encoding":
            codings.extend(c.strip().lower() for c in value.split(",") if c.strip())
        elif key == "expect":
            framing.expect_continue = value.strip().lower() == "100-continue"
    if head.split(b"\n", 1)[0].rstrip(b"\r").endswith(b" HTTP/1.0"):
        # RFC 9110 section 10.1.1: a 100-continue expectation from HTTP/1.0 is ignored.
        framing.expect_continue = False
    if codings:
        # Both fields, or a final coding other than chunked: gunicorn answers 400.
        framing.chunked = codings[-1] == "chunked"
        framing.known = framing.known and framing.chunked and not lengths
    elif lengths:
        (text,) = lengths if len(lengths) == 1 else ("invalid",)
        # str.isdigit is true of superscripts and other digits int() refuses.
        digits = text.isascii() and text.isdigit()
        framing.known = framing.known and digits
        framing.length = int(text) if digits else 0
    return framing


@dataclass
class RequestScan:
    """One request's bytes as they arrive, and how far its framing has been checked.

    `max_body` bounds the body as sent (Content-Length, or the chunks' data without their
    framing); `started` is when its first byte arrived (monotonic seconds)."""

    max_body: int
    started: float = field(default_factory=time.monotonic)
    buffer: bytearray = field(default_factory=bytearray)
    framing: Framing | None = None
    head_end: int = -1
    """Offset just past the head's blank line, once it has arrived."""
    end: int = -1
    """Offset just past the request (its body included), once complete."""
    _chunk_pos: int = 0
    body_bytes: int = 0
    continued: bool = False
    """Whether `100 Continue` was sent for this request."""

    def continue_due(self) -> bool:
        """True once, when the client asked for `100 Continue` and its body is awaited."""
        due = self.framing is not None and self.framing.expect_continue and not self.continued
        self.continued = self.continued or due
        return due

    def feed(self, data: bytes) -> Progress:
        """Add received bytes and say whether the request is complete."""
        self.buffer += data
        return self.progress()

    def progress(self) -> Progress:
        if self.framing is None:
            end = head_end(self.buffer)
            if end < 0:
                too_large = len(self.buffer) > HEAD_LIMIT_BYTES
                return Progress.HEAD_TOO_LARGE if too_large else Progress.MORE
            self.framing = read_framing(self.buffer[:end])
            self.head_end = self._chunk_pos = end
            if self.framing.length > self.max_body:
                self.body_bytes = self.framing.length
                return Progress.BODY_TOO_LARGE
        if not self.framing.known:
            return Progress.COMPLETE
        if self.framing.chunked:
            return self._chunks()
        if len(self.buffer) - self.head_end >= self.framing.length:
            self.end = self.head_end + self.framing.length
            return Progress.COMPLETE
        return Progress.MORE

    def _chunks(self) -> Progress:
        buf = self.buffer
        while True:
            eol = buf.find(b"\n", self._chunk_pos)
            if eol < 0:
                # An endless size line: gunicorn's parser refuses it.
                too_long = len(buf) - self._chunk_pos > _CHUNK_LINE_LIMIT
                return Progress.COMPLETE if too_long else Progress.MORE
            size_text = bytes(buf[self._chunk_pos : eol]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                return Progress.COMPLETE  # malformed: gunicorn's parser answers 400
            data_start = eol + 1
            if size == 0:
                # Trailer fields (usually none), then the blank line.
                if buf.startswith(b"\r\n", data_start) or buf.startswith(b"\n", data_start):
                    self.end = data_start + (2 if buf[data_start] == 13 else 1)
                    return Progress.COMPLETE
                end = head_end(buf[data_start:])
                if end < 0:
                    return Progress.MORE
                self.end = data_start + end
                return Progress.COMPLETE
            self.body_bytes += size
            if self.body_bytes > self.max_body:
                return Progress.BODY_TOO_LARGE
            next_pos = data_start + size + 2  # the data, then CRLF
            if len(buf) < next_pos:
                self.body_bytes -= size  # counted again when the chunk is complete
                return Progress.MORE
            self._chunk_pos = next_pos
