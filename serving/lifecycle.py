"""Whether this server is draining, shared between the gunicorn master and its workers.

The master receives SIGTERM; the workers answer readiness probes. A one-byte anonymous shared
mapping, created in the master before it forks, is the cheapest channel between them: reading it
costs nothing per probe and needs no writable file system.
"""

from __future__ import annotations

import mmap


class DrainFlag:
    def __init__(self) -> None:
        self._map = mmap.mmap(-1, 1)

    def set(self) -> None:
        self._map[0] = 1

    def is_set(self) -> bool:
        return self._map[0] == 1


# Created at import, so a master that imports this module before forking shares it with workers.
DRAINING = DrainFlag()
