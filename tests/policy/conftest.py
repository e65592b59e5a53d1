"""A temporary repository made of the example platform and the iris-classifier model (its real
ONNX artifact); the CLI runner is tests/conftest.py's ``run_cli``."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "models" / "iris-classifier"


EditModel = Callable[[Callable[[str], str]], Path]


@pytest.fixture
def iris_repo(tmp_path: Path) -> EditModel:
    """Copy the example platform and iris-classifier; ``edit`` rewrites its model.yaml text.

    The copy has no release.yaml, so no environment requires digests: these tests look at the
    rules on plain tags (the digest rule has its own test)."""

    def make(edit: Callable[[str], str]) -> Path:
        platform = (REPO_ROOT / "environments.yaml").read_text(encoding="utf-8")
        no_pins = platform.replace("requireDigest: true", "requireDigest: false")
        (tmp_path / "environments.yaml").write_text(no_pins, encoding="utf-8")
        folder = tmp_path / "models" / "iris-classifier"
        folder.mkdir(parents=True)
        shutil.copy(EXAMPLE / "model.onnx", folder / "model.onnx")
        shutil.copy(EXAMPLE / "profile.json", folder / "profile.json")  # drift is on
        text = (EXAMPLE / "model.yaml").read_text(encoding="utf-8")
        (folder / "model.yaml").write_text(edit(text), encoding="utf-8")
        return tmp_path

    return make
