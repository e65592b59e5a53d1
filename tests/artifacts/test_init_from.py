"""mlgitops init NAME --from URI (recorded, fetched into the cache, not copied) and
init --artifact with external data (copied with its data files)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.artifacts import servers
from tests.artifacts.conftest import Registry, Workspace, export, sha256


def spec_artifact(workspace: Workspace, name: str) -> dict[str, object]:
    text = (workspace.root / "models" / name / "model.yaml").read_text(encoding="utf-8")
    artifact: dict[str, object] = yaml.safe_load(text)["spec"]["artifact"]
    return artifact


def test_init_from_https_records_the_uri_and_the_external_data(
    workspace: Workspace, web: servers.WebServer, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(web.ca_bundle))
    split = export(41, external="weights.bin", scratch=scratch)
    web.files["/init/model.onnx"] = split.graph
    web.files["/init/weights.bin"] = split.data["weights.bin"]
    url = f"{web.url}/init/model.onnx"

    outcome = workspace.run("init", "scorer", "--from", url)

    assert outcome.exit_code == 0, outcome.stderr
    assert sorted(p.name for p in (workspace.root / "models/scorer").iterdir()) == ["model.yaml"]
    assert spec_artifact(workspace, "scorer") == {
        "uri": url,
        "sha256": split.sha256,
        "externalData": [{"path": "weights.bin", "sha256": sha256(split.data["weights.bin"])}],
    }
    assert workspace.cached() == sorted([split.sha256, sha256(split.data["weights.bin"])])
    checked = workspace.run("validate", "--skip-build")
    assert (checked.exit_code, checked.stderr) == (0, "")


def test_init_from_an_alias_notes_the_version_it_named(
    workspace: Workspace, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.url)
    for name, value in servers.mlflow_login(servers.MLFLOW_ADMIN).items():
        monkeypatch.setenv(name, value)

    outcome = workspace.run("init", "scorer", "--from", "models:/plain@champion")

    assert outcome.exit_code == 0, outcome.stderr
    text = (workspace.root / "models/scorer/model.yaml").read_text(encoding="utf-8")
    assert (
        "    # models:/plain@champion named models:/plain/1 when this file was written.\n" in text
    )
    assert spec_artifact(workspace, "scorer") == {
        "uri": "models:/plain@champion",
        "sha256": registry.models["plain"][0].sha256,
    }
    checked = workspace.run("validate", "--skip-build")
    assert (checked.exit_code, checked.stderr) == (0, "")


def test_init_from_a_missing_object_creates_nothing(
    workspace: Workspace, s3: servers.S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3.environ().items():
        monkeypatch.setenv(name, value)
    uri = f"s3://{s3.bucket}/init/absent.onnx"

    outcome = workspace.run("init", "scorer", "--from", uri)

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(f"error: {uri}: not found (no such object)\n  hint: ")
    assert not (workspace.root / "models").exists() or not any(
        (workspace.root / "models").iterdir()
    )
    assert workspace.cached() == []


def test_init_artifact_copies_the_external_data_files_and_lists_them(
    workspace: Workspace, scratch: Path
) -> None:
    split = export(42, external="model.onnx.data", scratch=scratch)
    exported = split.write(scratch / "init-local", "exported.onnx")
    # The graph records "model.onnx.data" beside it, whatever the graph file's own name.

    outcome = workspace.run("init", "scorer", "--artifact", str(exported))

    assert outcome.exit_code == 0, outcome.stderr
    folder = workspace.root / "models/scorer"
    assert sorted(p.name for p in folder.iterdir()) == [
        "model.onnx",
        "model.onnx.data",
        "model.yaml",
    ]
    assert (folder / "model.onnx.data").read_bytes() == split.data["model.onnx.data"]
    data = split.data["model.onnx.data"]
    assert spec_artifact(workspace, "scorer")["externalData"] == [
        {"path": "model.onnx.data", "sha256": sha256(data)}
    ]
    checked = workspace.run("validate", "--skip-build")
    assert (checked.exit_code, checked.stderr) == (0, "")


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param([], id="neither"),
        pytest.param(["--artifact", "model.onnx", "--from", "s3://models/a.onnx"], id="both"),
    ],
)
def test_init_needs_exactly_one_source(workspace: Workspace, arguments: list[str]) -> None:
    outcome = workspace.run("init", "scorer", *arguments)
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: give exactly one of --artifact and --from\n")
