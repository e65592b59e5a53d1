"""mlgitops fetch from S3: moto's server mode in its own process, which checks SigV4
signatures and IAM policies; credentials and endpoint come from the standard AWS variables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.artifacts import servers
from tests.artifacts.conftest import Exported, Workspace, export, model_yaml, sha256


@pytest.fixture
def aws(s3: servers.S3Server, monkeypatch: pytest.MonkeyPatch) -> servers.S3Server:
    for name, value in s3.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return s3


@pytest.fixture
def split(scratch: Path) -> Exported:
    return export(31, external="weights.bin", scratch=scratch)


def upload(s3: servers.S3Server, prefix: str, exported: Exported) -> str:
    objects = {f"{prefix}/model.onnx": exported.graph}
    objects |= {f"{prefix}/{location}": data for location, data in exported.data.items()}
    servers.put_objects(s3, objects)
    return f"s3://{s3.bucket}/{prefix}/model.onnx"


def test_fetch_downloads_graph_and_data_files(
    workspace: Workspace, aws: servers.S3Server, split: Exported
) -> None:
    uri = upload(aws, "fraud/ok", split)
    workspace.write_model(model_yaml(f"uri: '{uri}'", split))

    outcome = workspace.run("fetch")

    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout == f"fraud: {uri}: fetched 2 file(s), verified\n"
    assert workspace.cached() == sorted([split.sha256, sha256(split.data["weights.bin"])])
    checked = workspace.run("validate", "--skip-build")
    assert (checked.exit_code, checked.stderr) == (0, "")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        pytest.param("s3://models/fraud/none/model.onnx", "not found (no such object)", id="key"),
        pytest.param("s3://no-such-bucket/model.onnx", "not found (no such bucket)", id="bucket"),
        pytest.param("s3://models/private/model.onnx", "access denied (AccessDenied)", id="denied"),
    ],
)
def test_failed_gets_are_located_at_the_uri_and_leave_nothing(
    workspace: Workspace, aws: servers.S3Server, split: Exported, uri: str, message: str
) -> None:
    upload(aws, "private", split)
    workspace.write_model(model_yaml(f"uri: '{uri}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(f"models/fraud/model.yaml:6:19: {uri}: {message}\n")
    assert workspace.cached() == []


def test_unknown_access_key_is_access_denied(
    workspace: Workspace, aws: servers.S3Server, split: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = upload(aws, "fraud/key", split)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    workspace.write_model(model_yaml(f"uri: '{uri}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert f"{uri}: access denied (InvalidAccessKeyId)" in outcome.stderr
    assert "AWS_ACCESS_KEY_ID" in outcome.stderr
    assert workspace.cached() == []


def test_no_credentials_names_the_variables(
    workspace: Workspace, aws: servers.S3Server, split: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    workspace.write_model(model_yaml("uri: 's3://models/fraud/ok/model.onnx'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert "s3://models/fraud/ok/model.onnx: no AWS credentials found" in outcome.stderr
    assert workspace.cached() == []


def test_changed_data_file_is_an_error_at_its_sha256(
    workspace: Workspace, aws: servers.S3Server, split: Exported
) -> None:
    uri = upload(aws, "fraud/retrained", split)
    servers.put_objects(aws, {"fraud/retrained/weights.bin": b"retrained weights"})
    workspace.write_model(model_yaml(f"uri: '{uri}'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines()[0].endswith(
        f"weights.bin beside {uri} has sha256 {sha256(b'retrained weights')}, "
        "not the one written here"
    )
    assert workspace.cached() == []


@pytest.fixture
def cutting(aws: servers.S3Server) -> Iterator[servers.CuttingProxy]:
    host, port = aws.endpoint.removeprefix("http://").split(":")
    proxy = servers.CuttingProxy((host, int(port)), limit=4096)
    yield proxy
    proxy.close()


def test_download_cut_off_in_the_middle_leaves_nothing(
    workspace: Workspace,
    aws: servers.S3Server,
    cutting: servers.CuttingProxy,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = export(32, scratch=scratch)
    assert len(whole.graph) > 4096 * 2
    uri = upload(aws, "fraud/cut", whole)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{cutting.port}")
    workspace.write_model(model_yaml(f"uri: '{uri}'", whole))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        f"models/fraud/model.yaml:6:19: {uri}: the download was cut off after "
    ), outcome.stderr
    assert workspace.cached() == []


def test_endpoint_down_says_it_cannot_reach_it(
    workspace: Workspace, aws: servers.S3Server, split: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{servers.closed_port()}")
    workspace.write_model(model_yaml("uri: 's3://models/fraud/ok/model.onnx'", split))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert "s3://models/fraud/ok/model.onnx: cannot reach the S3 endpoint" in outcome.stderr
    assert "AWS_ENDPOINT_URL" in outcome.stderr
    assert workspace.cached() == []
