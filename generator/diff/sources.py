"""The inputs of a repository at a git ref, copied out of git into a scratch folder.

``git archive`` reads the object database only, so the user's working tree, index and
checked-out branch are never touched: a reviewer can run ``diff`` with uncommitted work.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.git import git, resolve_ref
from generator.layout import RepoLayout

INPUT_PATHS = ("environments.yaml", "models")


def _tree(root: Path, commit: str) -> str:
    """The tree-ish of ``root`` inside ``commit``: the repository may live in a subfolder."""
    prefix = git(root, "rev-parse", "--show-prefix").strip()
    return f"{commit}:{prefix}"


@contextmanager
def inputs_at(root: Path, ref: str) -> Iterator[RepoLayout]:
    """A layout holding ``environments.yaml`` and ``models/`` as they are at ``ref``.

    Paths missing at ``ref`` stay missing (an early commit without models is a valid base).
    """
    tree = _tree(root, resolve_ref(root, ref))
    present = git(root, "ls-tree", "--name-only", tree, "--", *INPUT_PATHS).split()
    with tempfile.TemporaryDirectory(prefix="mlgitops-diff-") as scratch:
        folder = Path(scratch) / "inputs"
        folder.mkdir()
        if present:
            archive = Path(scratch) / "inputs.tar"
            git(root, "archive", "--format=tar", "-o", str(archive), tree, "--", *present)
            with tarfile.open(archive) as bundle:
                bundle.extractall(folder, filter="data")
        yield RepoLayout(folder)
