"""`mlgitops up` and `down` fail clearly, with the right exit code, and leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest

from generator.run import aggregator, podman
from generator.run.up import UpOptions, execute_down, execute_up
from tests.delivery.e2e_support import make_workspace

REPO = Path(__file__).resolve().parents[2]


def up(options: UpOptions, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = execute_up(options, out, err, environ if environ is not None else dict(os.environ))
    return code, out.getvalue(), err.getvalue()


def test_missing_podman_exits_2_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = up(UpOptions(REPO, "iris-classifier", "dev"))
    assert code == 2
    assert "podman not found" in err and "apt-get install podman catatonit" in err
    assert "Traceback" not in err
    down_err = io.StringIO()
    assert execute_down("iris-classifier", "dev", io.StringIO(), down_err) == 2
    assert "apt-get install podman" in down_err.getvalue()


@pytest.mark.parametrize(
    ("model", "env", "message"),
    [
        ("nope", "dev", "unknown model 'nope'; known: diabetes-regressor, digits-classifier"),
        ("iris-classifier", "qa", "unknown environment 'qa'; known: dev, staging, prod"),
    ],
)
def test_unknown_names_exit_2(model: str, env: str, message: str) -> None:
    code, _, err = up(UpOptions(REPO, model, env))
    assert code == 2
    assert message in err


def _nothing_left(pod: str) -> None:
    assert podman.containers(pod) == []
    assert not podman.pod_exists(pod)
    assert not aggregator.exists(pod)
    volumes = podman.run(["volume", "ls", "--format", "{{.Name}}"]).stdout.split()
    assert [v for v in volumes if v.startswith(f"{pod}-")] == []


def _unloadable_artifact(root: Path, model: str) -> None:
    """Give `model` an artifact every static check accepts (its signature reads, its sha256 is
    pinned, its profile matches) that ONNX Runtime cannot load: its first node is an operator
    from a domain no runtime registers, as a model exported with a custom op is. The server
    then runs but never reports ready (`serving.dataplane`)."""
    import onnx

    folder = root / "models" / model
    artifact = onnx.load(folder / "model.onnx")
    artifact.graph.node[0].domain = "com.example.custom"
    artifact.opset_import.append(onnx.helper.make_opsetid("com.example.custom", 1))
    onnx.save(artifact, folder / "model.onnx")
    digest = hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    for name in ("model.yaml", "profile.json"):
        path = folder / name
        if path.exists():
            text = path.read_text()
            pinned = re.sub(r'("?sha256"?: ")[0-9a-f]{64}', rf"\g<1>{digest}", text, count=1)
            path.write_text(pinned)


@pytest.mark.docker
def test_readiness_not_reached_in_time_names_the_probe_and_leaves_nothing(
    pod_services: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", pod_services["DOCKER_HOST"])
    root = make_workspace(tmp_path, "diabetes-regressor", "registry.example.com/ml")
    release = "models/diabetes-regressor/release.yaml"
    shutil.copy2(REPO / release, root / release)
    _unloadable_artifact(root, "diabetes-regressor")
    options = UpOptions(
        root,
        "diabetes-regressor",
        "staging",
        detach=True,
        base_image=pod_services["MLGITOPS_E2E_BASE_IMAGE"],
        fluentd_image=pod_services["MLGITOPS_E2E_FLUENTD_IMAGE"],
        timeout=15,
    )
    code, _, err = up(options, {**os.environ, **pod_services})
    assert code == 1, err[-2000:]
    # The server answered, not ready: the probe's own verdict is the last result.
    assert re.search(
        r"readinessProbe of container server not passed within 15 s; last result: "
        r"GET http://127\.0\.0\.1:\d+/v2/health/ready: HTTP 503",
        err,
    ), err[-2000:]
    # ...and the server's own words on why, from its log.
    assert "could not be loaded" in err and "com.example.custom" in err, err[-2000:]
    _nothing_left("diabetes-regressor-staging")


@pytest.mark.docker
def test_a_container_that_exits_during_start_is_named_with_its_exit_code_and_log(
    pod_services: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", pod_services["DOCKER_HOST"])
    root = make_workspace(tmp_path, "iris-classifier", "registry.example.com/ml")
    model = root / "models/iris-classifier/model.yaml"
    # A path the server must write but the pod's read-only root refuses: the pod passes every
    # static check (values the server's settings refuse are caught by validate) and cannot run.
    model.write_text(
        model.read_text().replace('FEATURE_FLAG: "on"', 'PROMETHEUS_MULTIPROC_DIR: "/opt/metrics"')
    )
    shutil.copy2(REPO / "models/iris-classifier/release.yaml", model.parent / "release.yaml")
    options = UpOptions(
        root,
        "iris-classifier",
        "dev",
        detach=True,
        base_image=pod_services["MLGITOPS_E2E_BASE_IMAGE"],
    )
    code, _, err = up(options, {**os.environ, **pod_services})
    assert code == 1, err[-2000:]
    # Podman forgets the exit code once it restarts a container: either form names it.
    pattern = (
        r"container iris-classifier-dev-server (\w+ with exit code [1-9]\d*|restarted \d+ times)"
    )
    assert re.search(pattern, err), err[-2000:]
    # From its last 20 log lines: the server's own one-line refusal, no traceback.
    assert "PROMETHEUS_MULTIPROC_DIR '/opt/metrics' is not a writable directory" in err
    assert "Read-only file system" in err
    _nothing_left("iris-classifier-dev")
