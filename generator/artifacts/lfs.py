"""Git LFS pointer files: what a clone without ``git lfs pull`` holds instead of the artifact.

A pointer is a small text file (Git LFS's specification, docs/spec.md in git-lfs/git-lfs):
``version https://git-lfs.github.com/spec/v1``, then ``oid sha256:<64 hex>`` and ``size <bytes>``,
each on its own line, under 1024 bytes in all. The oid is the sha256 of the real file, so it can
be compared with ``spec.artifact.sha256`` without downloading anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

POINTER_MAX_BYTES = 1024
_VERSION = b"version https://git-lfs.github.com/spec/v1\n"
_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.MULTILINE)
_SIZE = re.compile(rb"^size ([0-9]+)$", re.MULTILINE)
LFS_HINT = "run `git lfs pull` in this clone; in a GitHub workflow, check out with `lfs: true`"


@dataclass(frozen=True)
class Pointer:
    """What a pointer file says of the file it stands for."""

    oid: str
    """The sha256 of the file the pointer stands for."""
    size: int


def read_pointer(path: Path) -> Pointer | None:
    """The pointer ``path`` holds, or None when it is an ordinary file."""
    try:
        with path.open("rb") as stream:
            head = stream.read(POINTER_MAX_BYTES + 1)
    except OSError:
        return None
    if len(head) > POINTER_MAX_BYTES or not head.startswith(_VERSION):
        return None
    oid, size = _OID.search(head), _SIZE.search(head)
    if oid is None or size is None:
        return None
    return Pointer(oid[1].decode(), int(size[1]))
