"""The one artifact hasher: what ``spec.artifact.sha256`` is checked against (``validate``,
``build``) and what ``init`` records."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK_BYTES = 1024 * 1024
"""Read size: a model of several GiB is hashed without being held in memory."""


def file_sha256(path: Path) -> str:
    """Lower-case hex SHA-256 of the file's bytes; OSError when it cannot be read."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
