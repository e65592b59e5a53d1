"""Which models need a new image since a git ref.

A model's image is its artifact on top of the runtime image, so it changes when its own folder
changes or when anything the runtime image is built from changes. release.yaml is left out: it
is what a build writes, and counting it would make every pin commit trigger another build.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from generator.git import GitError, changed_paths
from generator.layout import RepoLayout, input_model_of

__all__ = ["BUILD_OUTPUTS", "RUNTIME_INPUTS", "GitError", "changed_models"]

RUNTIME_INPUTS = ("serving", "pyproject.toml", "constraints.txt")
BUILD_OUTPUTS = ("release.yaml",)


def changed_models(root: Path, ref: str, models: Iterable[str]) -> list[str]:
    names = sorted(models)
    layout = RepoLayout(root)
    folders = [layout.relative(layout.model_dir(name)) for name in names]
    changed = [
        path
        for path in changed_paths(root, ref, [*folders, *RUNTIME_INPUTS])
        if not (input_model_of(path) and path.rsplit("/", 1)[-1] in BUILD_OUTPUTS)
    ]
    if any(_under(path, RUNTIME_INPUTS) for path in changed):
        return names
    return [name for name in names if any(input_model_of(path) == name for path in changed)]


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)
