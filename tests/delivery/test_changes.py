from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from generator.delivery.changes import changed_models
from generator.git import GitError
from tests.delivery.conftest import git

FILES = {
    "models/a/model.yaml": "a",
    "models/b/model.yaml": "b",
    "serving/app.py": "app",
    "pyproject.toml": "[project]",
    "docs/x.md": "doc",
}
MODELS = ("a", "b")

Repo = Callable[[Mapping[str, str | bytes]], Path]


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        pytest.param({}, [], id="nothing"),
        pytest.param({"models/a/model.yaml": "a2"}, ["a"], id="one-model"),
        pytest.param({"models/b/model.onnx": "new"}, ["b"], id="untracked-artifact"),
        pytest.param({"serving/app.py": "app2"}, ["a", "b"], id="runtime-change"),
        pytest.param({"pyproject.toml": "[x]"}, ["a", "b"], id="runtime-pins"),
        pytest.param({"docs/x.md": "doc2"}, [], id="unrelated"),
        pytest.param({"models/a/release.yaml": "pin"}, [], id="own-output"),
    ],
)
def test_changed_models(repo: Repo, edits: dict[str, str], expected: list[str]) -> None:
    root = repo(FILES)
    for name, content in edits.items():
        (root / name).write_text(content)
    assert changed_models(root, "HEAD", MODELS) == expected


def test_committed_change_since_an_older_ref(repo: Repo) -> None:
    root = repo(FILES)
    (root / "models/b/model.yaml").write_text("b2")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "b")
    assert changed_models(root, "HEAD~1", MODELS) == ["b"]
    assert changed_models(root, "HEAD", MODELS) == []


def test_unknown_ref_is_reported_with_gits_words(repo: Repo) -> None:
    root = repo(FILES)
    with pytest.raises(GitError, match="nope"):
        changed_models(root, "nope", MODELS)
