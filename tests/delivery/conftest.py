from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

Tree = Callable[[Mapping[str, str | bytes]], Path]


def git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """Write files from a {relative path: content} mapping under tmp_path and return it."""

    def make(files: Mapping[str, str | bytes]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return tmp_path

    return make


@pytest.fixture
def repo(tree: Tree) -> Callable[[Mapping[str, str | bytes]], Path]:
    """A git repository with one commit holding ``files``."""

    def make(files: Mapping[str, str | bytes]) -> Path:
        root = tree(files)
        git(root, "init", "-q", "-b", "main")
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
        return root

    return make
