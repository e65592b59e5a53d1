"""Listening sockets that outlive the workers using them.

Each worker accepts from its own `SO_REUSEPORT` socket, so the kernel spreads connections
evenly across workers (a shared socket let one worker take whole bursts). But a connection
the kernel has queued on a socket is reset when the last descriptor of that socket closes, and
with sockets opened by the workers that happens whenever one exits: an OOM kill, a timeout
kill, a restart. Linux can move such connections to a sibling socket (`net.ipv4.tcp_migrate_req`,
5.14+), but that sysctl is outside Kubernetes' safe set, so a pod cannot count on it.

So the master opens the sockets, one per worker place, and keeps them open for its whole life;
each worker is given one (gunicorn's `fd://` bind, inherited across the fork). A worker that
dies leaves its socket and queue behind, and its replacement, given the same socket, accepts
what was queued there. Only the master's own stop closes them, after the drain.
"""

from __future__ import annotations

import collections
import ctypes
import socket
import struct
import sys
from collections.abc import Iterable
from typing import Any

from gunicorn import sock

# <linux/filter.h> and <asm-generic/socket.h>: SO_ATTACH_FILTER takes a `struct sock_fprog`
# (instruction count, pointer to `struct sock_filter` {u16 code, u8 jt, u8 jf, u32 k}).
_SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)
# BPF_RET | BPF_K with k = 0: "accept 0 bytes of the packet", i.e. drop it.
_DROP_EVERYTHING = struct.pack("=HBBI", 0x06, 0, 0, 0)


def stop_admitting(listener: socket.socket) -> bool:
    """Let no further connection into `listener`'s accept queue, leaving the ones already
    queued there to be accepted: the socket, still open, drops every packet addressed to it.

    Closing a listening socket resets the connections the kernel queued on it, and a client
    may connect in the instant between a worker's last `accept` and its `close`. A socket
    filter closes that gap: Linux runs the socket's filter on a listener's incoming SYNs and
    on the final ACK of a handshake (`tcp_v4_rcv`, `tcp_filter`), so with a filter dropping
    everything no handshake completes. A client whose SYN was dropped sends it again about a
    second later, to a sibling socket or to a closed port (refused, safe to retry elsewhere).

    Uses SO_ATTACH_FILTER with a one-instruction classic BPF program (socket(7), and the
    kernel's Documentation/networking/filter.rst). Returns False, changing nothing, where the
    platform has no socket filters."""
    if not sys.platform.startswith("linux"):
        return False
    program = ctypes.create_string_buffer(_DROP_EVERYTHING, len(_DROP_EVERYTHING))
    fprog = struct.pack("@HP", 1, ctypes.addressof(program))
    try:
        listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)
    except OSError:
        return False
    return True


class SharedListeners:
    """`count` listening sockets on the configured address, owned by the gunicorn master."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._listeners: list[Any] = []

    def open(self, cfg: Any, log: Any) -> None:
        """Master, before the first fork: bind every socket (gunicorn's own binding, with its
        retries and errors; `reuse_port` is on, so each has SO_REUSEPORT)."""
        if self._listeners:
            return
        for _ in range(self.count):
            self._listeners.extend(sock.create_sockets(cfg, log))

    def choose(self, in_use: Iterable[int | None]) -> int:
        """The socket with the fewest live workers on it (a dead worker's first)."""
        users = collections.Counter(i for i in in_use if i is not None)
        return min(range(len(self._listeners)), key=lambda i: (users[i], i))

    def fd(self, index: int) -> int:
        fd: int = self._listeners[index].fileno()
        return fd

    def forget_in_child(self, index: int) -> None:
        """Worker, after the fork: close the siblings' sockets, and forget (without closing)
        the descriptor gunicorn's `fd://` bind already took over and closed."""
        for i, listener in enumerate(self._listeners):
            if i == index:
                listener.sock.detach()
            else:
                listener.close()
        self._listeners = []

    def close(self) -> None:
        for listener in self._listeners:
            listener.close()
        self._listeners = []
