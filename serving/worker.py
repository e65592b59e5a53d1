"""The gunicorn worker: gthread, with two changes to how a connection reaches a thread.

1. A connection is served only once its request head (request line and headers, up to the
   blank line) has arrived. Until then it waits in the worker's poller, as an idle keep-alive
   connection does, instead of holding a thread: a client that sends its head slowly (or
   never finishes it) costs a file descriptor, not a thread. The body is then bounded by
   BODY_TIMEOUT (`serving.observe.begin`).
2. With one thread per worker, the worker's loop thread serves the request itself. gthread
   would hand it to a one-thread pool and take the connection back through a pipe: two thread
   wake-ups, two epoll registrations and a pipe round trip per request, a third of the
   server's CPU time per request here (docs/serving.md has the figures).

It subclasses gunicorn's gthread worker and relies on its internals (`enqueue_req`,
`finish_request`, `handle`, the deferral sentinel), so gunicorn is pinned to one major version.
"""

from __future__ import annotations

import socket
from concurrent import futures
from typing import Any

from gunicorn.workers import gthread

# A head that has not ended within this many bytes goes to gunicorn's parser, whose limits
# (request line, header count and size) then decide: a client has to send this much before
# an unfinished head can hold a thread.
HEAD_READ_BYTES = 16 * 1024
_HEAD_ENDS = (b"\n\r\n", b"\n\n")


def head_complete(data: bytes) -> bool:
    """Whether `data`, the start of a request, holds the whole head."""
    return any(end in data for end in _HEAD_ENDS)


class ServingWorker(gthread.ThreadWorker):  # type: ignore[misc]
    def enqueue_req(self, conn: Any) -> None:
        """Serve `conn` once its head has arrived: here with one thread, else in the pool.

        Always called in the loop thread (accept, poller callbacks and `finish_request`)."""
        if self.cfg.is_ssl:
            # Bytes of TLS records say nothing about the request inside.
            super().enqueue_req(conn)
            return
        if not self._head_arrived(conn):
            # Back to the poller until more arrives; a stopping worker closes it instead.
            self._finish(conn, gthread._DEFER if self.alive else False)
            return
        # The head is there: gthread's wait for a new connection's first bytes is moot.
        conn.data_ready = True
        if self.cfg.threads > 1:
            super().enqueue_req(conn)
            return
        result = self.handle(conn)
        # Requests a client pipelined behind this one are already buffered: serve them in a
        # loop, not by recursing through `finish_request`.
        while result is True and _buffered(conn):
            if not self._head_arrived(conn):
                break
            result = self.handle(conn)
        self._finish(conn, result)

    def _finish(self, conn: Any, result: object) -> None:
        done: futures.Future[object] = futures.Future()
        done.set_result(result)
        self.finish_request(conn, done)

    @staticmethod
    def _head_arrived(conn: Any) -> bool:
        """Read what the client has sent so far into the parser's buffer; True once the head
        is complete (or the socket has an error or end of file for the handler to meet).

        The bytes are read, not peeked at: data left in the socket would keep it readable to
        the level-triggered poller, which would spin on a client that trickles its head."""
        conn.init()
        unreader = conn.parser.unreader
        buffered: bytes = unreader.take_buffered()
        if head_complete(buffered):
            unreader.unread(buffered)
            return True
        try:
            received = conn.sock.recv(HEAD_READ_BYTES, socket.MSG_DONTWAIT)
        except BlockingIOError:
            received = b""
        except OSError:
            unreader.unread(buffered)
            return True
        else:
            if not received:
                # End of file: the handler sees it and closes.
                unreader.unread(buffered)
                return True
        data = buffered + received
        unreader.unread(data)
        return head_complete(data) or len(data) >= HEAD_READ_BYTES


def _buffered(conn: Any) -> bytes:
    """What gunicorn's parser has read from the socket but not consumed (pipelined requests)."""
    if conn.parser is None:
        return b""
    data: bytes = conn.parser.unreader.buf.getvalue()
    return data
