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
from collections.abc import Iterable
from typing import Any

from gunicorn import sock


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
