"""Which models need a new image since a git ref.

A model's image is its artifact on top of the runtime image, so it changes when its own folder
changes or when anything the runtime image is built from changes. release.yaml is left out: it
is what a build writes, and counting it would make every pin commit trigger another build.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

RUNTIME_INPUTS = ("serving", "pyproject.toml", "constraints.txt")
BUILD_OUTPUTS = ("release.yaml",)


class GitError(RuntimeError):
    """git could not answer (not a repository, unknown ref); the message is git's own."""


def changed_paths(root: Path, ref: str, paths: Sequence[str]) -> list[str]:
    command = ["git", "-C", str(root), "diff", "--name-only", ref, "--", *paths]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise GitError("git is not installed") from error
    if result.returncode != 0:
        raise GitError(result.stderr.strip() or f"git diff {ref} failed")
    untracked = _untracked(root, paths)
    return sorted({*result.stdout.splitlines(), *untracked})


def _untracked(root: Path, paths: Sequence[str]) -> list[str]:
    """New files are changes too, even before they are committed."""
    command = ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard", "--", *paths]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GitError(result.stderr.strip() or "git ls-files failed")
    return result.stdout.splitlines()


def changed_models(root: Path, ref: str, models: Iterable[str]) -> list[str]:
    names = sorted(models)
    folders = [f"models/{name}" for name in names]
    changed = [
        path
        for path in changed_paths(root, ref, [*folders, *RUNTIME_INPUTS])
        if not (path.startswith("models/") and path.rsplit("/", 1)[-1] in BUILD_OUTPUTS)
    ]
    if any(_under(path, RUNTIME_INPUTS) for path in changed):
        return names
    return [name for name in names if any(_under(path, (f"models/{name}",)) for path in changed)]


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)
