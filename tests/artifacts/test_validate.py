"""validate on artifacts it can read (model folder, cache) and on those it cannot (a registry
artifact not fetched here, a Git LFS pointer): errors for what is wrong, a note for what could
not be checked, and the exit code of an offline pull request unchanged by the note."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts.conftest import Exported, Workspace, export, model_yaml, sha256


def pointer(oid: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


def put_in_cache(workspace: Workspace, *blobs: bytes) -> None:
    folder = workspace.cache / "sha256"
    folder.mkdir(parents=True, exist_ok=True)
    for blob in blobs:
        (folder / sha256(blob)).write_bytes(blob)


@pytest.fixture
def split(scratch: Path) -> Exported:
    return export(11, external="model.onnx.data", scratch=scratch)


def test_external_data_listed_and_present_validates(workspace: Workspace, split: Exported) -> None:
    workspace.write_model(
        model_yaml("path: model.onnx", split), {"model.onnx": split.graph, **split.data}
    )
    outcome = workspace.run("validate", "--skip-build")
    assert (outcome.exit_code, outcome.stderr) == (0, "")


def test_external_data_the_spec_does_not_list_is_an_error_with_its_sha256(
    workspace: Workspace, split: Exported
) -> None:
    text = model_yaml("path: model.onnx", Exported(split.graph, {}))
    workspace.write_model(text, {"model.onnx": split.graph, **split.data})
    outcome = workspace.run("validate", "--skip-build")
    data = split.data["model.onnx.data"]
    assert outcome.exit_code == 1
    assert outcome.stderr == (
        "models/fraud/model.yaml:6:32: the graph keeps tensors in 'model.onnx.data', which "
        "spec.artifact.externalData does not list\n"
        f"  hint: add {{path: model.onnx.data, sha256: {sha256(data)}}} to "
        "spec.artifact.externalData\n"
    )


def test_listed_data_file_the_graph_does_not_reference_is_an_error(
    workspace: Workspace, split: Exported, scratch: Path
) -> None:
    whole = export(12, scratch=scratch)
    text = model_yaml("path: model.onnx", Exported(whole.graph, split.data))
    workspace.write_model(text, {"model.onnx": whole.graph, **split.data})
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    assert "spec.artifact.externalData lists 'model.onnx.data', which the graph does not " in (
        outcome.stderr
    )


def test_changed_data_file_is_an_error_at_its_sha256(workspace: Workspace, split: Exported) -> None:
    workspace.write_model(
        model_yaml("path: model.onnx", split),
        {"model.onnx": split.graph, "model.onnx.data": b"retrained"},
    )
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    first = outcome.stderr.splitlines()[0]
    assert first.endswith(
        f"sha256 of models/fraud/model.onnx.data is {sha256(b'retrained')}, "
        "not the one written here"
    )
    line, column = map(int, first.split(":")[1:3])
    text = (workspace.root / "models/fraud/model.yaml").read_text().splitlines()[line - 1]
    assert text[column - 1 :].startswith(sha256(split.data["model.onnx.data"]))


def test_missing_data_file_is_an_error(workspace: Workspace, split: Exported) -> None:
    workspace.write_model(model_yaml("path: model.onnx", split), {"model.onnx": split.graph})
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    assert "models/fraud/model.onnx.data, which the graph references, does not exist" in (
        outcome.stderr
    )


def test_lfs_pointer_with_the_recorded_oid_passes_with_a_note(
    workspace: Workspace, split: Exported
) -> None:
    workspace.write_model(
        model_yaml("path: model.onnx", Exported(split.graph, {})),
        {"model.onnx": pointer(split.sha256, len(split.graph))},
    )
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stderr.startswith(
        "models/fraud/model.yaml:6:40: note: models/fraud/model.onnx is a Git LFS pointer whose "
        "oid matches sha256; the signature and the external data were not checked (build "
        "needs the content)\n  hint: run `git lfs pull` in this clone; in a GitHub workflow, "
        "check out with `lfs: true`\n"
    )


def test_lfs_pointer_to_another_oid_is_an_error_at_sha256(
    workspace: Workspace, split: Exported
) -> None:
    other = "ab" * 32
    workspace.write_model(
        model_yaml("path: model.onnx", Exported(split.graph, {})),
        {"model.onnx": pointer(other, 10)},
    )
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    assert outcome.stderr == (
        f"models/fraud/model.yaml:6:40: models/fraud/model.onnx is a Git LFS pointer to sha256 "
        f"{other}, not the one written here\n  hint: if the new artifact is intended, set "
        f"sha256: {other}\n"
    )


def test_lfs_pointer_whose_content_is_cached_is_checked_in_full(
    workspace: Workspace, split: Exported, scratch: Path
) -> None:
    """The cache holds the content: the signature is read from it (a changed one is caught)."""
    wider = export(13, scratch=scratch)
    put_in_cache(workspace, wider.graph)
    text = model_yaml("path: model.onnx", wider).replace("shape: [-1, 64]}]}", "shape: [-1, 3]}]}")
    workspace.write_model(text, {"model.onnx": pointer(wider.sha256, len(wider.graph))})
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    assert (
        "models/fraud/model.onnx does not match spec.signature: output 'y' shape changed: "
        "[-1, 3] -> [-1, 64]" in outcome.stderr
    )


def test_uri_not_in_the_cache_passes_with_a_note_naming_fetch(
    workspace: Workspace, split: Exported
) -> None:
    workspace.write_model(model_yaml("uri: 's3://models/fraud/model.onnx'", split))
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 0
    assert outcome.stderr == (
        "models/fraud/model.yaml:6:19: note: not checked here: s3://models/fraud/model.onnx, "
        "model.onnx.data not in the artifact cache (sha256, signature and external data are "
        "checked once fetched)\n  hint: run `mlgitops fetch fraud` where the source is "
        "reachable\n"
    )


def test_uri_in_the_cache_is_checked_in_full(workspace: Workspace, split: Exported) -> None:
    put_in_cache(workspace, split.graph, *split.data.values())
    text = model_yaml("uri: 'https://models.example.com/fraud/model.onnx'", split)
    workspace.write_model(text.replace("name: y,", "name: scores,"))
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    assert (
        "https://models.example.com/fraud/model.onnx does not match spec.signature: "
        "output 'scores' is recorded in model.yaml" in outcome.stderr
    )


def test_damaged_cache_entry_is_an_error_naming_the_file(
    workspace: Workspace, split: Exported
) -> None:
    put_in_cache(workspace, *split.data.values())
    damaged = workspace.cache / "sha256" / split.sha256
    damaged.write_bytes(b"bit rot")
    workspace.write_model(model_yaml("uri: 'https://models.example.com/m.onnx'", split))
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    assert (
        f"the cached copy of https://models.example.com/m.onnx ({damaged}) has sha256 "
        f"{sha256(b'bit rot')}: it is damaged" in outcome.stderr
    )


@pytest.mark.parametrize(
    ("artifact", "message"),
    [
        pytest.param(
            "path: model.onnx, uri: 's3://models/a.onnx'",
            "spec.artifact: has both path and uri; exactly one of path, uri is allowed",
            id="both",
        ),
        pytest.param(
            "uri: 'models:/fraud'",
            "'models:/fraud' is not a registered model version or alias",
            id="registry-without-version",
        ),
        pytest.param(
            "uri: 's3://Models_Bucket/a.onnx'",
            "'s3://Models_Bucket/a.onnx' does not name an object in a bucket",
            id="bad-bucket",
        ),
        pytest.param(
            "uri: 'https://user:pw@example.com/a.onnx'",
            "'https://user:pw@example.com/a.onnx' does not name a file on a host",
            id="credentials-in-url",
        ),
        pytest.param(
            "uri: 'http://example.com/a.onnx'",
            "spec.artifact.uri: 'http://example.com/a.onnx' is not valid",
            id="plain-http",
        ),
    ],
)
def test_bad_artifact_sources_are_located_errors(
    workspace: Workspace, split: Exported, artifact: str, message: str
) -> None:
    workspace.write_model(model_yaml(artifact, Exported(split.graph, {})), {"model.onnx": b"x"})
    outcome = workspace.run("validate", "--skip-build")
    assert outcome.exit_code == 1
    assert outcome.stderr.startswith("models/fraud/model.yaml:6:"), outcome.stderr
    assert message in outcome.stderr


def test_the_note_is_a_notice_under_github_actions(workspace: Workspace, split: Exported) -> None:
    workspace.write_model(model_yaml("uri: 's3://models/fraud/model.onnx'", split))
    outcome = workspace.run("--format", "github", "validate", "--skip-build")
    assert outcome.exit_code == 0
    assert outcome.stderr.startswith(
        "::notice file=models/fraud/model.yaml,line=6,col=19::not checked here: "
    )


def test_lfs_pointer_of_a_data_file_is_compared_by_oid(
    workspace: Workspace, split: Exported
) -> None:
    """The pointer rule holds for every file of the artifact, the data files too."""
    data = split.data["model.onnx.data"]
    workspace.write_model(
        model_yaml("path: model.onnx", split),
        {"model.onnx": split.graph, "model.onnx.data": pointer(sha256(data), len(data))},
    )
    matching = workspace.run("validate", "--skip-build")
    assert matching.exit_code == 0, matching.stderr
    assert (
        "note: models/fraud/model.onnx.data is a Git LFS pointer whose oid matches sha256; "
        "its content was not checked" in matching.stderr
    )

    other = "cd" * 32
    (workspace.root / "models/fraud/model.onnx.data").write_bytes(pointer(other, 5))
    changed = workspace.run("validate", "--skip-build")
    assert changed.exit_code == 1
    assert (
        f"models/fraud/model.onnx.data is a Git LFS pointer to sha256 {other}, not the one "
        "written here" in changed.stderr
    )
