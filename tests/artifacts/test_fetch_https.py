"""mlgitops fetch from a real HTTPS server whose certificate a test CA signed (trustme)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.artifacts import servers
from tests.artifacts.conftest import Exported, Workspace, export, model_yaml, sha256


@pytest.fixture
def trusted(web: servers.WebServer, monkeypatch: pytest.MonkeyPatch) -> servers.WebServer:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(web.ca_bundle))
    return web


@pytest.fixture
def split(scratch: Path) -> Exported:
    return export(21, external="weights.bin", scratch=scratch)


def publish(web: servers.WebServer, folder: str, exported: Exported) -> str:
    web.files[f"/{folder}/model.onnx"] = exported.graph
    for location, data in exported.data.items():
        web.files[f"/{folder}/{location}"] = data
    return f"{web.url}/{folder}/model.onnx"


def test_fetch_downloads_graph_and_data_files_verified_then_validate_checks_them(
    workspace: Workspace, trusted: servers.WebServer, split: Exported
) -> None:
    url = publish(trusted, "ok", split)
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("fetch")

    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout == f"fraud: {url}: fetched 2 file(s), verified\n"
    assert workspace.cached() == sorted([split.sha256, sha256(split.data["weights.bin"])])
    assert (workspace.cache / "sha256" / split.sha256).read_bytes() == split.graph
    again = workspace.run("fetch", "fraud")
    assert again.stdout == f"fraud: {url}: already in the cache\n"
    checked = workspace.run("validate", "--skip-build")
    assert (checked.exit_code, checked.stderr) == (0, "")


@pytest.mark.parametrize(
    ("folder", "message", "hint"),
    [
        pytest.param("gone", "not found (HTTP 404)", "check spec.artifact.uri", id="not-found"),
        pytest.param("denied", "access denied (HTTP 403)", "~/.netrc", id="access-denied"),
        pytest.param("cut", "the download was cut off after ", "try again", id="cut-off"),
    ],
)
def test_failed_downloads_are_located_at_the_uri_and_leave_nothing(
    workspace: Workspace,
    trusted: servers.WebServer,
    split: Exported,
    folder: str,
    message: str,
    hint: str,
) -> None:
    publish(trusted, "source", split)
    url = f"{trusted.url}/{folder}/source/model.onnx"
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(f"models/fraud/model.yaml:6:19: {url}: {message}")
    assert hint in outcome.stderr.splitlines()[1]
    assert workspace.cached() == []


def test_sha256_mismatch_is_an_error_at_sha256_and_caches_nothing(
    workspace: Workspace, trusted: servers.WebServer, split: Exported, scratch: Path
) -> None:
    other = export(22, scratch=scratch)
    url = publish(trusted, "mismatch", other)
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("fetch", "fraud")

    assert outcome.exit_code == 1
    column = len("  artifact: {uri: '") + len(url) + len("', sha256: ") + 1
    assert outcome.stderr == (
        f"models/fraud/model.yaml:6:{column}: {url} has sha256 {other.sha256}, "
        f"not the one written here\n  hint: if the new artifact is intended, set sha256: "
        f"{other.sha256}\n"
    )
    assert workspace.cached() == []


def test_missing_data_file_fails_the_whole_model(
    workspace: Workspace, trusted: servers.WebServer, split: Exported
) -> None:
    url = publish(trusted, "no-data", split)
    del trusted.files["/no-data/weights.bin"]
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert f"{trusted.url}/no-data/weights.bin: not found (HTTP 404)" in outcome.stderr
    assert workspace.cached() == [], "the graph alone must not reach the cache"


def test_untrusted_certificate_names_requests_ca_bundle(
    workspace: Workspace, web: servers.WebServer, split: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    url = publish(web, "untrusted", split)
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert f"{url}: the server's certificate is not trusted" in outcome.stderr
    assert "REQUESTS_CA_BUNDLE" in outcome.stderr
    assert workspace.cached() == []


def test_server_down_says_it_cannot_reach_it(
    workspace: Workspace, trusted: servers.WebServer, split: Exported
) -> None:
    url = f"https://127.0.0.1:{servers.closed_port()}/model.onnx"
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(f"models/fraud/model.yaml:6:19: {url}: cannot reach the ")
    assert workspace.cached() == []


def test_staging_left_by_a_killed_fetch_is_swept_by_the_next(
    workspace: Workspace, trusted: servers.WebServer, split: Exported
) -> None:
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    leftover = workspace.cache / "partial" / f"{dead.pid}.abc123"
    leftover.mkdir(parents=True)
    (leftover / "graph").write_bytes(split.graph[:100])
    url = publish(trusted, "sweep", split)
    workspace.write_model(model_yaml(f"uri: '{url}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 0, outcome.stderr
    assert not leftover.exists()
    assert workspace.cached() == sorted([split.sha256, sha256(split.data["weights.bin"])])
