"""The local artifact cache: verified files, each named by its own sha256.

``$XDG_CACHE_HOME/mlgitops`` (``~/.cache/mlgitops`` when the variable is unset, empty or
relative, as the XDG Base Directory specification says). Files are content-addressed, so one
cache serves every model and every source: a registry version, a bucket object and a file that
once sat in Git are the same entry when their bytes are the same.

A file reaches ``sha256/<hex>`` only by a rename within the cache's file system, after its hash
was checked: a reader never sees a partial file. Downloads are staged in ``partial/<pid>.<n>/``,
removed when the download fails, and swept on the next run when their process died.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

CACHE_NAME = "mlgitops"


def cache_dir(environ: Mapping[str, str]) -> Path:
    """Where the cache lives for this environment (nothing is created here)."""
    base = environ.get("XDG_CACHE_HOME", "")
    if not base or not os.path.isabs(base):
        home = environ.get("HOME") or str(Path.home())
        base = os.path.join(home, ".cache")
    return Path(base) / CACHE_NAME


def default_cache() -> ArtifactCache:
    """The cache of this process's environment."""
    return ArtifactCache(cache_dir(os.environ))


class ArtifactCache:
    """Read and add verified files; see the module docstring for the layout."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the file with this sha256 is (or would be) kept."""
        return self.root / "sha256" / sha256

    def has(self, sha256: str) -> bool:
        """Whether a verified file with this sha256 is kept."""
        return self.path(sha256).is_file()

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A private folder on the cache's file system, removed with all it holds on exit."""
        partial = self.root / "partial"
        partial.mkdir(parents=True, exist_ok=True)
        self._sweep(partial)
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}.", dir=partial))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def add(self, staged: Path, sha256: str) -> Path:
        """Move a staged file whose hash the caller has checked into place; returns its path."""
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.chmod(0o444)
        os.replace(staged, target)
        return target

    @staticmethod
    def _sweep(partial: Path) -> None:
        """Remove staging folders whose process no longer runs (killed mid-download)."""
        for entry in partial.iterdir():
            pid = entry.name.partition(".")[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
