"""The gunicorn worker: gthread, with changes to how a connection reaches a thread.

1. A request is served only once it has arrived in full: its head (request line and fields, up
   to the blank line) and its body (`serving.framing` knows where it ends). Until then the
   connection waits in the worker's poller, as an idle keep-alive connection does, and its bytes
   are collected by the loop: a client that sends slowly, or stalls, costs a file descriptor,
   never a thread, at any THREADS setting. A head over 64 KiB gets 431; a body over
   MAX_REQUEST_BYTES gets 413 as soon as its framing shows it (Content-Length, or the chunks
   received so far); a request not complete within BODY_TIMEOUT of its first byte gets 408.
   Refusals say `Connection: close` and close after a short lingering read, so that the client
   reads the answer rather than a reset.
2. With one thread per worker, the worker's loop thread serves the request itself. gthread
   would hand it to a one-thread pool and take the connection back through a pipe: two thread
   wake-ups, two epoll registrations and a pipe round trip per request, a third of the
   server's CPU time per request here (docs/serving.md has the figures).
3. A request that `serving.http11` parses (an ordinary, well-formed HTTP/1.1 request, the
   kind every client sends) is answered by it: the environ built from the bytes already read,
   the application's whole response written in one send. Anything else goes to gunicorn's
   parser, `wsgi.create` and `Response` unchanged, so gunicorn still decides every refusal
   and every unusual form. This halves the server's CPU time per request
   (docs/serving.md has the figures).
4. SIGTERM and SIGINT stop a worker only when its master ordered the stop (`serving.lifecycle`
   records the order before the master signals): a signal sent to the whole process group (an
   init process forwarding it, a terminal's Ctrl-C) reaches the master too, which drains
   first and then stops the workers itself.

It subclasses gunicorn's gthread worker and relies on its internals (`enqueue_req`,
`finish_request`, `handle`, `handle_request`, `keepalived_conns`, `max_keepalived`, `nr`,
`nr_conns`, `pending_conns`), so gunicorn is pinned to one major version.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import os
import selectors
import signal
import socket
import time
from concurrent import futures
from functools import partial
from typing import Any

from gunicorn import SERVER
from gunicorn.http import wsgi
from gunicorn.workers import gthread

from serving import http11
from serving.framing import HEAD_LIMIT_BYTES, Progress, RequestScan, head_complete
from serving.listeners import stop_admitting

__all__ = ["HEAD_LIMIT_BYTES", "ServingWorker", "head_complete"]

# Bytes taken off a socket per read; a read loop stops when the socket has no more.
READ_BYTES = 256 * 1024
# How long a refused connection is still read (and the bytes dropped) before it is closed, so
# the client, still sending its body, reads the answer instead of a reset (Apache's lingering
# close does the same).
LINGER_SECONDS = 2.0
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

log = logging.getLogger("serving.worker")


def refusal(status: str, message: str) -> bytes:
    """A whole HTTP response refusing a request, with an OIP error body, closing the
    connection."""
    # Imported here: gunicorn loads this module in the master, which must not load ONNX
    # Runtime (imported with the data plane) before it forks the workers.
    from serving import observe

    body = observe.error_body(message)
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class ServingWorker(gthread.ThreadWorker):  # type: ignore[misc]
    alive: bool  # gunicorn's; False once the worker is to stop

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read once: gunicorn's config works these out again on every access.
        self._tls = bool(self.cfg.is_ssl)
        self._inline = self.cfg.threads == 1
        settings = getattr(self.app, "settings", None)
        self.max_body: int = getattr(settings, "max_request_bytes", 8 * 1024 * 1024)
        self.request_timeout: float = getattr(settings, "body_timeout", 30.0)
        self._lingering: collections.deque[tuple[float, Any]] = collections.deque()
        self._grpc_stopped: Any = None
        unlimited = 1 << 30  # gunicorn reads 0 as "no limit"
        self._limits = http11.Limits(
            line=self.cfg.limit_request_line or unlimited,
            fields=self.cfg.limit_request_fields or unlimited,
            field_size=self.cfg.limit_request_field_size or unlimited,
            divert=http11.FRAMING_AND_UPGRADES
            | {name.upper() for name in self.cfg.secure_scheme_headers}
            | {name.upper() for name in self.cfg.forwarder_headers},
        )
        self._base_environ: dict[str, Any] = {
            **wsgi.base_environ(self.cfg),
            "wsgi.multithread": not self._inline,
        }
        self._script_name = os.environ.get("SCRIPT_NAME", "")

    # -- stop orders ---------------------------------------------------------------------

    def _stop_ordered(self) -> bool:
        state = getattr(self, "server_state", None)
        return state is None or bool(state.stop_ordered(getattr(self, "readiness_slot", None)))

    def handle_exit(self, sig: int, frame: Any) -> None:
        if not self._stop_ordered():
            self.log.info("worker %s: SIGTERM not sent by the master; it drains first", self.pid)
            return
        super().handle_exit(sig, frame)

    def handle_quit(self, sig: int, frame: Any) -> None:
        # SIGINT comes here too (gunicorn's base worker); SIGQUIT from the master is obeyed.
        if sig != signal.SIGQUIT and not self._stop_ordered():
            self.log.info("worker %s: SIGINT not sent by the master; it drains first", self.pid)
            return
        super().handle_quit(sig, frame)

    def set_accept_enabled(self, enabled: bool) -> None:
        """On stop, shut each listening socket to new connections, take every connection
        already queued on it, close it, and only then serve what was taken: the kernel sends
        new connections to a sibling (or refuses them once all are closed) instead of queueing
        them where nobody would accept them, to reset them at the exit. Nothing is served while
        taking them, so clients waiting for answers add none, and at most a backlog's worth is
        taken."""
        super().set_accept_enabled(enabled)
        if enabled or self.alive:
            return
        self._stop_grpc()
        taken: list[tuple[socket.socket, Any, Any]] = []
        for listener in self.sockets:
            if listener.sock is None:
                continue
            # Without this, a connection completing between the last accept and the close
            # would be queued, then reset.
            stop_admitting(listener.sock)
            listener.setblocking(False)
            while len(taken) < self.cfg.backlog:
                try:
                    client, address = listener.accept()
                except ConnectionAbortedError:
                    continue  # that client gave up while queued; the next one has not
                except OSError:
                    break  # BlockingIOError: the queue is empty
                taken.append((client, address, listener.getsockname()))
            listener.close()
        for client, address, server in taken:
            self.nr_conns += 1
            client.setblocking(True)
            self.enqueue_req(gthread.TConn(self.cfg, client, address, server))

    def _stop_grpc(self) -> None:
        """The gRPC server (`serving.grpc_api`) stops taking calls with the HTTP listeners;
        calls in flight get GRACEFUL_TIMEOUT."""
        server = getattr(self, "grpc_server", None)
        if server is not None and self._grpc_stopped is None:
            self._grpc_stopped = server.stop(self.cfg.graceful_timeout)

    def run(self) -> None:
        super().run()
        self._stop_grpc()
        if self._grpc_stopped is not None:
            self._grpc_stopped.wait(self.cfg.graceful_timeout)

    # -- requests ------------------------------------------------------------------------

    def enqueue_req(self, conn: Any) -> None:
        """Serve `conn` once its request has arrived in full: here with one thread, else in the
        pool.

        Always called in the loop thread (accept, poller callbacks and `finish_request`)."""
        if self._tls:
            # Bytes of TLS records say nothing about the request inside.
            super().enqueue_req(conn)
            return
        progress = self._receive(conn)
        while True:
            if progress is not Progress.COMPLETE:
                self._incomplete(conn, progress)
                return
            # The request is there: gthread's wait for a new connection's first bytes is moot.
            conn.data_ready = True
            if not self._inline:
                super().enqueue_req(conn)
                return
            result = self.handle(conn)
            # Requests a client pipelined behind this one are already buffered: serve them in
            # this loop, not by recursing through `finish_request`.
            if result is not True or not _buffered(conn):
                self._finish(conn, result)
                return
            progress = self._receive(conn)

    def _incomplete(self, conn: Any, progress: Progress) -> None:
        if progress is Progress.HEAD_TOO_LARGE:
            log.warning(
                "refused a request head over %d bytes from %s", HEAD_LIMIT_BYTES, conn.client
            )
            message = (
                f"request head (request line and headers) is larger than {HEAD_LIMIT_BYTES} bytes"
            )
            self._refuse(conn, "431 Request Header Fields Too Large", message)
        elif progress is Progress.BODY_TOO_LARGE:
            message = f"request body is larger than {self.max_body} bytes"
            self._refuse(conn, "413 Request Entity Too Large", message)
        else:
            self._wait(conn)

    def handle(self, conn: Any) -> Any:
        """Serve the connection's request: with `serving.http11` when it parsed it, else with
        gunicorn (its parser, `wsgi.create` and `Response`). True keeps the connection open.
        Runs in the loop thread with one thread, else in a pool thread."""
        request: http11.Request | None = getattr(conn, "request", None)
        if request is None:
            return super().handle(conn)
        conn.request = None
        try:
            return self._respond(conn, request)
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except Exception:
            # Nothing was sent yet: the response is written only once complete.
            self.log.exception("Error handling request %s %s", request.method, request.target)
            with contextlib.suppress(OSError):
                _send(conn.sock, refusal("500 Internal Server Error", "internal server error"))
        return False

    def _respond(self, conn: Any, request: http11.Request) -> bool:
        """Run the application on `request` and send its whole response in one write; the
        keep-alive rules are gthread's `handle_request`'s (max_requests, a stopping worker,
        the keep-alive connection limit)."""
        self.nr += 1
        if self.nr >= self.max_requests and self.alive:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        allowed = (
            self.alive
            and bool(self.cfg.keepalive)
            and len(self.keepalived_conns) < self.max_keepalived
        )
        env = http11.environ(
            request, self._base_environ, conn.client, conn.server, self._script_name
        )
        if env is None:
            raise http11.ResponseError(
                f"request path {request.target!r} does not start with SCRIPT_NAME "
                f"{self._script_name!r}"
            )
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return written.append

        chunks = self.wsgi(env, start_response)
        try:
            written.extend(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if not started:
            raise http11.ResponseError("the application returned without calling start_response")
        data, keep_alive = http11.response(
            request, started[0], started[1], b"".join(written), allowed, SERVER
        )
        _send(conn.sock, data)
        return keep_alive

    def handle_request(self, req: Any, conn: Any) -> Any:
        # The loop answered `Expect: 100-continue` when it waited for the body; the body is
        # here now, so gunicorn must not send a second one.
        req._expected_100_continue = False
        return super().handle_request(req, conn)

    def _receive(self, conn: Any) -> Progress:
        """Take what the client has sent off the socket into the request's scan and say how
        far the request is. End of file or a socket error counts as complete: gunicorn's
        parser meets it.

        Bytes are read, not peeked at: data left in the socket would keep it readable to the
        level-triggered poller, which would spin on a client that trickles its request."""
        conn.init()
        unreader = conn.parser.unreader
        buffered: bytes = unreader.take_buffered()
        scan: RequestScan | None = getattr(conn, "scan", None)
        if scan is None:
            scan = RequestScan(self.max_body)
        progress = scan.feed(buffered)
        while progress is Progress.MORE:
            try:
                received = conn.sock.recv(READ_BYTES, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError:
                received = b""
            if not received:
                progress = Progress.COMPLETE
                break
            progress = scan.feed(received)
        if progress is Progress.MORE:
            # An idle connection (no byte of a request yet) keeps no scan: its clock starts
            # with the first byte.
            conn.scan = scan if scan.buffer else None
            return progress
        conn.scan = None
        if progress is Progress.COMPLETE:
            request = http11.parse(scan.buffer, scan.head_end, scan.end, self._limits)
            conn.request = request
            # What this path does not serve goes to gunicorn's parser, bytes unchanged.
            pending = scan.buffer if request is None else request.rest
            if pending:
                unreader.unread(bytes(pending))
        return progress

    def _wait(self, conn: Any) -> None:
        """Back to the poller until more of the request arrives, for at most BODY_TIMEOUT from
        its first byte (an idle connection: the keep-alive timeout)."""
        scan: RequestScan | None = getattr(conn, "scan", None)
        if scan is not None and scan.continue_due():
            with contextlib.suppress(OSError):
                conn.sock.send(_CONTINUE, socket.MSG_DONTWAIT)
        conn.sock.setblocking(False)
        if scan is not None:
            conn.timeout = scan.started + self.request_timeout
        else:
            conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def murder_pending(self) -> None:
        """Close connections whose request did not arrive in time: 408 when part of it came.
        Unlike gthread's, the deadlines here are not in order (keep-alive and BODY_TIMEOUT)."""
        now = time.monotonic()
        expired = [c for c in self.pending_conns if c.timeout <= now]
        for conn in expired:
            self.pending_conns.remove(conn)
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            if getattr(conn, "scan", None) is not None:
                message = (
                    "request not received in full within "
                    f"{self.request_timeout:g} s of its first byte"
                )
                self._refuse(conn, "408 Request Timeout", message)
            else:
                self.nr_conns -= 1
                conn.close()
        while self._lingering and self._lingering[0][0] <= now:
            _, conn = self._lingering.popleft()
            self._close_lingering(conn)

    def _finish(self, conn: Any, result: object) -> None:
        done: futures.Future[object] = futures.Future()
        done.set_result(result)
        self.finish_request(conn, done)

    def _refuse(self, conn: Any, status: str, message: str) -> None:
        """Answer as far as the socket takes it at once, stop sending, and read (dropping what
        comes) for LINGER_SECONDS before closing; never waits in the loop."""
        conn.scan = None
        with contextlib.suppress(OSError):
            conn.sock.send(refusal(status, message), socket.MSG_DONTWAIT)
            conn.sock.shutdown(socket.SHUT_WR)
        conn.sock.setblocking(False)
        try:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drop_input, conn))
        except (OSError, ValueError, KeyError):
            self.nr_conns -= 1
            conn.close()
            return
        self._lingering.append((time.monotonic() + LINGER_SECONDS, conn))

    def _drop_input(self, conn: Any, client: Any) -> None:
        try:
            while data := conn.sock.recv(READ_BYTES, socket.MSG_DONTWAIT):
                del data
        except BlockingIOError:
            return
        except OSError:
            pass
        # End of file (or an error): the client has read the answer and gone.
        for entry in self._lingering:
            if entry[1] is conn:
                self._lingering.remove(entry)
                break
        self._close_lingering(conn)

    def _close_lingering(self, conn: Any) -> None:
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()


def _send(sock: socket.socket, data: bytes) -> None:
    """Write `data` whole: at once when the socket's buffer takes it (the usual case, one
    system call), else waiting as a blocking write does."""
    try:
        sent = sock.send(data, socket.MSG_DONTWAIT)
    except BlockingIOError:
        sent = 0
    if sent < len(data):
        sock.setblocking(True)
        sock.sendall(memoryview(data)[sent:])


def _buffered(conn: Any) -> bytes:
    """What gunicorn's parser has read from the socket but not consumed (pipelined requests)."""
    if conn.parser is None:
        return b""
    data: bytes = conn.parser.unreader.buf.getvalue()
    return data
