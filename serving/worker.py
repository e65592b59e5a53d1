"""The gunicorn worker: gthread, with two changes to how a connection reaches a thread.

1. A connection is served only once its request head (request line and headers, up to the
   blank line) has arrived. Until then it waits in the worker's poller, as an idle keep-alive
   connection does, instead of holding a thread: a client that sends its head slowly (or
   never finishes it) costs a file descriptor, not a thread. A head over 64 KiB gets 431. The
   body is then bounded by BODY_TIMEOUT (`serving.observe.begin`).
2. With one thread per worker, the worker's loop thread serves the request itself. gthread
   would hand it to a one-thread pool and take the connection back through a pipe: two thread
   wake-ups, two epoll registrations and a pipe round trip per request, a third of the
   server's CPU time per request here (docs/serving.md has the figures).

It subclasses gunicorn's gthread worker and relies on its internals (`enqueue_req`,
`finish_request`, `handle`, `nr_conns`, the deferral sentinel), so gunicorn is pinned to one
major version.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import socket
from concurrent import futures
from typing import Any

from gunicorn.workers import gthread

# Heads are read in pieces of this size; one longer than HEAD_LIMIT_BYTES without its blank line
# is refused with 431 (gunicorn's own limits would allow some 800 KiB of fields, and a client
# stalling inside such a head would hold a thread: the whole worker, with one thread).
HEAD_READ_BYTES = 16 * 1024
HEAD_LIMIT_BYTES = 64 * 1024
_HEAD_ENDS = (b"\n\r\n", b"\n\n")

log = logging.getLogger("serving.worker")


class Head(enum.Enum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    TOO_LARGE = "too large"


def head_complete(data: bytes) -> bool:
    """Whether `data`, the start of a request, holds the whole head."""
    return any(end in data for end in _HEAD_ENDS)


def head_too_large_response() -> bytes:
    # Imported here: gunicorn loads this module in the master, which must not load ONNX
    # Runtime (imported with the data plane) before it forks the workers.
    from serving import observe

    body = observe.error_body(
        f"request head (request line and headers) is larger than {HEAD_LIMIT_BYTES} bytes"
    )
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class ServingWorker(gthread.ThreadWorker):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read once: gunicorn's config works these out again on every access.
        self._tls = bool(self.cfg.is_ssl)
        self._inline = self.cfg.threads == 1

    def enqueue_req(self, conn: Any) -> None:
        """Serve `conn` once its head has arrived: here with one thread, else in the pool.

        Always called in the loop thread (accept, poller callbacks and `finish_request`)."""
        if self._tls:
            # Bytes of TLS records say nothing about the request inside.
            super().enqueue_req(conn)
            return
        head = read_head(conn)
        if head is Head.TOO_LARGE:
            self._refuse(conn)
            return
        if head is Head.PARTIAL:
            # Back to the poller until more arrives; a stopping worker closes it instead.
            self._finish(conn, gthread._DEFER if self.alive else False)
            return
        # The head is there: gthread's wait for a new connection's first bytes is moot.
        conn.data_ready = True
        if not self._inline:
            super().enqueue_req(conn)
            return
        result = self.handle(conn)
        # Requests a client pipelined behind this one are already buffered: serve them in a
        # loop, not by recursing through `finish_request` (which sees a head that is not
        # complete yet in the buffer, and brings it back here).
        while result is True and _buffered(conn) and read_head(conn) is Head.COMPLETE:
            result = self.handle(conn)
        self._finish(conn, result)

    def _finish(self, conn: Any, result: object) -> None:
        done: futures.Future[object] = futures.Future()
        done.set_result(result)
        self.finish_request(conn, done)

    def _refuse(self, conn: Any) -> None:
        """Answer 431 as far as the socket takes it at once, and close without lingering:
        gunicorn's graceful close would wait in this loop for the client to finish."""
        log.warning("refused a request head over %d bytes from %s", HEAD_LIMIT_BYTES, conn.client)
        with contextlib.suppress(OSError):
            conn.sock.send(head_too_large_response(), socket.MSG_DONTWAIT)
        self.nr_conns -= 1
        conn.close()


def read_head(conn: Any) -> Head:
    """Read what the client has sent so far into the parser's buffer, and say whether the
    head is complete. An error or end of file counts as complete: the handler meets it.

    The bytes are read, not peeked at: data left in the socket would keep it readable to the
    level-triggered poller, which would spin on a client that trickles its head."""
    conn.init()
    unreader = conn.parser.unreader
    data: bytes = unreader.take_buffered()
    head = Head.COMPLETE
    if not head_complete(data):
        received: bytes | None
        try:
            received = conn.sock.recv(HEAD_READ_BYTES, socket.MSG_DONTWAIT)
        except BlockingIOError:
            received = None
        except OSError:
            received = b""
        if received:
            data += received
        # b"" is end of file or a broken socket: complete, for the handler to meet.
        if received != b"" and not head_complete(data):
            head = Head.TOO_LARGE if len(data) > HEAD_LIMIT_BYTES else Head.PARTIAL
    unreader.unread(data)
    return head


def _buffered(conn: Any) -> bytes:
    """What gunicorn's parser has read from the socket but not consumed (pipelined requests)."""
    if conn.parser is None:
        return b""
    data: bytes = conn.parser.unreader.buf.getvalue()
    return data
