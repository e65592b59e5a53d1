"""A temporary git repository holding a copy of the project's example inputs, committed on
``main``, so each test edits the working tree and diffs it against a real ref."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


@pytest.fixture(scope="session")
def example_repo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("template") / "repo"
    template.mkdir()
    shutil.copy(PROJECT / "environments.yaml", template / "environments.yaml")
    shutil.copytree(
        PROJECT / "models",
        template / "models",
        ignore=shutil.ignore_patterns("__pycache__", "*.joblib", "train.py"),
    )
    git(template, "init", "-q", "-b", "main")
    commit(template, "examples")
    return template


@pytest.fixture
def example_repo(example_repo_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the committed example repository (git history included)."""
    root = tmp_path / "repo"
    shutil.copytree(example_repo_template, root, symlinks=True)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
