"""mlgitops build checks (and fetches) every file of every selected model before it asks for a
Docker engine: a wrong digest or a missing LFS content never costs a build."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts import servers
from tests.artifacts.conftest import Exported, Workspace, export, model_yaml, sha256
from tests.artifacts.test_validate import pointer, put_in_cache


@pytest.fixture
def no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An engine address where none answers: build gets as far as asking for one (exit 2)."""
    where = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", where)
    return where


@pytest.fixture
def split(scratch: Path) -> Exported:
    return export(51, external="weights.bin", scratch=scratch)


def test_build_fetches_a_missing_uri_artifact_before_asking_for_the_engine(
    workspace: Workspace,
    web: servers.WebServer,
    split: Exported,
    no_engine: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(web.ca_bundle))
    web.files["/build/model.onnx"] = split.graph
    web.files["/build/weights.bin"] = split.data["weights.bin"]
    workspace.write_model(model_yaml(f"uri: '{web.url}/build/model.onnx'", split))

    outcome = workspace.run("build", "fraud")

    assert outcome.exit_code == 2
    assert outcome.stderr.startswith(f"mlgitops build: no Docker engine answers at {no_engine}")
    assert workspace.cached() == sorted([split.sha256, sha256(split.data["weights.bin"])])


def test_build_refuses_a_mismatch_before_anything_is_built(
    workspace: Workspace,
    web: servers.WebServer,
    split: Exported,
    no_engine: str,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(web.ca_bundle))
    other = export(52, scratch=scratch)
    web.files["/build-other/model.onnx"] = other.graph
    url = f"{web.url}/build-other/model.onnx"
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("build", "fraud")

    assert outcome.exit_code == 1
    assert f"{url} has sha256 {other.sha256}, not the one written here" in outcome.stderr
    assert "Docker engine" not in outcome.stderr
    assert workspace.cached() == []


def test_build_of_an_lfs_pointer_without_its_content_names_git_lfs_pull(
    workspace: Workspace, split: Exported, no_engine: str
) -> None:
    workspace.write_model(
        model_yaml("path: model.onnx", split),
        {"model.onnx": pointer(split.sha256, len(split.graph)), **split.data},
    )

    outcome = workspace.run("build", "fraud")

    assert outcome.exit_code == 1
    assert outcome.stderr == (
        "models/fraud/model.yaml:6:40: models/fraud/model.onnx is a Git LFS pointer and its "
        "content is not here\n  hint: run `git lfs pull` in this clone; in a GitHub workflow, "
        "check out with `lfs: true`\n"
    )


def test_build_of_an_lfs_pointer_uses_the_cached_content(
    workspace: Workspace, split: Exported, no_engine: str
) -> None:
    put_in_cache(workspace, split.graph)
    workspace.write_model(
        model_yaml("path: model.onnx", split),
        {"model.onnx": pointer(split.sha256, len(split.graph)), **split.data},
    )

    outcome = workspace.run("build", "fraud")

    assert outcome.exit_code == 2, outcome.stderr
    assert outcome.stderr.startswith(f"mlgitops build: no Docker engine answers at {no_engine}")


def test_image_files_are_the_graph_as_model_onnx_and_its_data_files(
    workspace: Workspace, split: Exported
) -> None:
    """What the build context's model folder holds, read back from where build takes it."""
    from generator.artifacts.cache import default_cache
    from generator.delivery.fetch import image_files
    from generator.layout import RepoLayout
    from generator.load.repository import load_model

    folder = workspace.write_model(
        model_yaml("path: exported.onnx", split),
        {"exported.onnx": split.graph, **split.data, "stray.bin": b"not referenced"},
    )
    layout = RepoLayout(workspace.root)
    model, problems = load_model(layout, "fraud")
    assert model is not None, problems

    files = image_files(layout, model, default_cache())

    assert files == {"model.onnx": folder / "exported.onnx", "weights.bin": folder / "weights.bin"}
