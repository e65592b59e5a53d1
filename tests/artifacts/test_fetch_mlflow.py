"""mlgitops fetch from MLflow's Model Registry: a real tracking server (sqlite backend store,
artifacts proxied by the server) holding models logged with mlflow.onnx.log_model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.artifacts import servers
from tests.artifacts.conftest import Registry, Workspace, model_yaml, sha256


@pytest.fixture
def tracking(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry.url)
    for name, value in servers.mlflow_login(servers.MLFLOW_ADMIN).items():
        monkeypatch.setenv(name, value)
    return registry


@pytest.mark.parametrize(
    ("uri", "resolved"),
    [
        pytest.param("models:/plain/1", "", id="version"),
        pytest.param("models:/plain@champion", " (now models:/plain/1)", id="alias"),
    ],
)
def test_fetch_finds_the_onnx_file_in_the_logged_model(
    workspace: Workspace, tracking: Registry, uri: str, resolved: str
) -> None:
    served = tracking.models["plain"][0]
    workspace.write_model(model_yaml(f"uri: '{uri}'", served))

    outcome = workspace.run("fetch")

    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout == f"fraud: {uri}{resolved}: fetched 1 file(s), verified\n"
    assert workspace.cached() == [served.sha256]
    checked = workspace.run("validate", "--skip-build")
    assert (checked.exit_code, checked.stderr) == (0, "")


def test_fetch_brings_the_external_data_mlflow_saved_beside_the_graph(
    workspace: Workspace, tracking: Registry
) -> None:
    served = tracking.models["external"][0]
    assert served.data, "mlflow.onnx.log_model(save_as_external_data=True) wrote no data file"
    workspace.write_model(model_yaml("uri: 'models:/external/1'", served))

    outcome = workspace.run("fetch")

    assert (outcome.exit_code, outcome.stderr) == (0, "")
    expected = [served.sha256, *(sha256(data) for data in served.data.values())]
    assert workspace.cached() == sorted(expected)


@pytest.fixture
def moved_alias(tracking: Registry) -> Iterator[None]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking.url)  # as the admin (the fixture's login)
    client.set_registered_model_alias("moving", "champion", "2")
    yield
    client.set_registered_model_alias("moving", "champion", "1")


def test_an_alias_that_moved_is_a_mismatch_that_names_the_new_version(
    workspace: Workspace, tracking: Registry, moved_alias: None
) -> None:
    reviewed, moved = tracking.models["moving"]
    workspace.write_model(model_yaml("uri: 'models:/moving@champion'", reviewed))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    column = len("  artifact: {uri: 'models:/moving@champion', sha256: ") + 1
    assert outcome.stderr.splitlines() == [
        f"models/fraud/model.yaml:6:{column}: models:/moving@champion "
        f"now names models:/moving/2, whose artifact has sha256 {moved.sha256}, not the one "
        "written here: the alias has moved",
        "  hint: pin the reviewed version (models:/NAME/VERSION) in spec.artifact.uri, or if "
        f"models:/moving/2 is intended, set sha256: {moved.sha256}",
    ]
    assert workspace.cached() == []


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("models:/plain/9", id="version"),
        pytest.param("models:/absent/1", id="model"),
        pytest.param("models:/plain@absent", id="alias"),
    ],
)
def test_unknown_names_versions_and_aliases_are_not_found(
    workspace: Workspace, tracking: Registry, uri: str
) -> None:
    workspace.write_model(model_yaml(f"uri: '{uri}'", tracking.models["plain"][0]))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        f"models/fraud/model.yaml:6:19: {uri}: not found in the registry ("
    ), outcome.stderr
    assert workspace.cached() == []


@pytest.mark.parametrize(
    ("user", "answer"),
    [
        pytest.param((servers.MLFLOW_ADMIN[0], "wrong password"), "401", id="wrong-password"),
        pytest.param(servers.MLFLOW_OUTSIDER, "403", id="no-permission"),
    ],
)
def test_access_denied_by_the_tracking_server_is_located_at_the_uri(
    workspace: Workspace,
    tracking: Registry,
    monkeypatch: pytest.MonkeyPatch,
    user: tuple[str, str],
    answer: str,
) -> None:
    for name, value in servers.mlflow_login(user).items():
        monkeypatch.setenv(name, value)
    workspace.write_model(model_yaml("uri: 'models:/plain/1'", tracking.models["plain"][0]))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    first, hint = outcome.stderr.splitlines()[:2]
    assert first.startswith(
        "models/fraud/model.yaml:6:19: models:/plain/1: access denied by the tracking server ("
    ), outcome.stderr
    assert answer in first
    assert "MLFLOW_TRACKING_USERNAME" in hint
    assert workspace.cached() == []


def test_server_down_says_it_cannot_reach_it(
    workspace: Workspace, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{servers.closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    workspace.write_model(model_yaml("uri: 'models:/plain/1'", registry.models["plain"][0]))

    outcome = workspace.run("fetch")

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        f"models/fraud/model.yaml:6:19: models:/plain/1: cannot reach the tracking server at {url}"
    ), outcome.stderr
    assert workspace.cached() == []


def test_download_cut_off_in_the_middle_leaves_nothing(
    workspace: Workspace, tracking: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = tracking.models["plain"][0]
    host, port = tracking.url.removeprefix("http://").split(":")
    proxy = servers.CuttingProxy((host, int(port)), limit=len(served.graph) // 2)
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{proxy.port}")
        workspace.write_model(model_yaml("uri: 'models:/plain/1'", served))
        outcome = workspace.run("fetch")
    finally:
        proxy.close()

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith("models/fraud/model.yaml:6:19: mlflow-artifacts:/"), (
        outcome.stderr
    )
    assert ": the download was cut off (" in outcome.stderr.splitlines()[0]
    assert workspace.cached() == []
