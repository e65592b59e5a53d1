"""Build contexts made from an explicit list of repository paths, and their content hash.

The Dockerfiles take the repository root as context, but sending the whole root would ship
virtualenvs and git history to the engine on every build. We send only the paths an image is
made of, at their repository paths, so the Dockerfiles' COPY lines read the same either way;
the hash of exactly those bytes tags the runtime image, so it is rebuilt only when they change.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

_SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def context_files(root: Path, paths: Iterable[str]) -> list[str]:
    """Repository-relative files under ``paths``, sorted; missing paths are skipped."""
    found: set[str] = set()
    for entry in paths:
        for path in _walk(root / entry):
            relative = path.relative_to(root)
            if _SKIPPED_PARTS.isdisjoint(relative.parts) and path.suffix not in _SKIPPED_SUFFIXES:
                found.add(relative.as_posix())
    return sorted(found)


def _walk(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from (child for child in sorted(path.rglob("*")) if child.is_file())


def content_hash(root: Path, files: Iterable[str], salt: Iterable[str] = ()) -> str:
    """SHA-256 over names and bytes, so a rename counts as a change, plus free-form salt."""
    digest = hashlib.sha256()
    for item in salt:
        digest.update(b"salt\0" + item.encode() + b"\0")
    for name in files:
        digest.update(b"file\0" + name.encode() + b"\0")
        digest.update(hashlib.sha256((root / name).read_bytes()).digest())
    return digest.hexdigest()


def context_tar(root: Path, files: Iterable[str], extra: Mapping[str, bytes]) -> io.BytesIO:
    """An uncompressed tar with normalised owners and times, so equal inputs give equal tars."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in files:
            data = (root / name).read_bytes()
            mode = 0o755 if (root / name).stat().st_mode & 0o111 else 0o644
            _add(archive, name, data, mode)
        for name, data in sorted(extra.items()):
            _add(archive, name, data, 0o644)
    buffer.seek(0)
    return buffer


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    archive.addfile(info, io.BytesIO(data))
