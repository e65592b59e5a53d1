"""Readiness of the server as a whole, shared between the gunicorn master and its workers.

Each worker has its own listening socket (SO_REUSEPORT, see `serving.server`), so the kernel
hands every worker its share of new connections whether or not that worker has loaded its model
yet. The pod therefore reports ready only when no worker is still booting and the server is not
draining. The master, which forks and reaps the workers, tracks them in slots; a worker marks
its slot loaded once its model is in memory.

An anonymous shared mapping, created in the master before it forks, carries this state: reading
it costs nothing per probe and needs no writable file system. Every byte has a single writer at
a time (the master before a fork and after a reap, the worker in between), so no lock is needed,
and a worker killed at any point cannot leave one held.
"""

from __future__ import annotations

import mmap

FREE, BOOTING, LOADED = 0, 1, 2
# A graceful reload (SIGHUP) boots a new set of workers before the old set exits; the spare
# slots cover that and a few replacements racing with it.
SLOTS_PER_WORKER = 4


class ServerState:
    def __init__(self, workers: int) -> None:
        self.capacity = SLOTS_PER_WORKER * max(workers, 1)
        # Byte 0: draining; then one readiness byte per slot; then one stop-order byte per slot.
        self._map = mmap.mmap(-1, 1 + 2 * self.capacity)

    def start_draining(self) -> None:
        self._map[0] = 1

    def draining(self) -> bool:
        return self._map[0] == 1

    def claim_slot(self) -> int | None:
        """Master, before forking a worker. None when every slot is taken: that worker then
        cannot hold readiness back, which is better than refusing to start it."""
        for slot in range(self.capacity):
            if self._map[1 + slot] == FREE:
                self._map[1 + slot] = BOOTING
                self._map[1 + self.capacity + slot] = 0
                return slot
        return None

    def mark_loaded(self, slot: int | None) -> None:
        """Worker, once its model is loaded."""
        if slot is not None:
            self._map[1 + slot] = LOADED

    def release(self, slot: int | None) -> None:
        """Master, after reaping a worker (or when its fork failed)."""
        if slot is not None:
            self._map[1 + slot] = FREE

    def order_stop(self, slot: int | None) -> None:
        """Master, just before it signals the worker in `slot` to stop."""
        if slot is not None:
            self._map[1 + self.capacity + slot] = 1

    def stop_ordered(self, slot: int | None) -> bool:
        """Worker, on SIGTERM or SIGINT: whether its master sent it. A worker with no slot
        obeys every signal, as gunicorn's own workers do."""
        return slot is None or self._map[1 + self.capacity + slot] == 1

    def serving(self) -> bool:
        """True when no worker is booting and the server is not draining."""
        return not self.draining() and BOOTING not in self._map[1 : 1 + self.capacity]


def provider_problem(requested: tuple[str, ...], active: list[str], allow_fallback: bool) -> str:
    """Why a loaded model must not report ready, or "" when it may.

    The first requested execution provider is the one the deployment was made for (CUDA on a
    GPU node pool): a session that runs on anything else computes, slowly, on the CPU while the
    pod holds a GPU. Unless fallback is allowed, that replica is not ready."""
    wanted = requested[0] if requested else ""
    if allow_fallback or not wanted or (active and active[0] == wanted):
        return ""
    return (
        f"execution provider {wanted} is not active (running on {', '.join(active) or 'none'}); "
        "not ready, since ORT_ALLOW_FALLBACK is false"
    )
