from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

import click
import pytest

from generator.cli.build import build_command
from generator.cli.promote import promote_command
from generator.load.release import HEADER, Pin, Release, read_release, write_release
from tests.conftest import run_cli

ARTIFACT = b"not really onnx"
SHA = hashlib.sha256(ARTIFACT).hexdigest()
DEV = Pin("127.0.0.1:5055/iris", "sha256:" + "a" * 64, "1.0", "2025-01-01T00:00:00Z")
ENVIRONMENTS = """\
apiVersion: mlgitops/v1
kind: Platform
registry: 127.0.0.1:5055
kubernetesVersion: "1.33"
repository: {url: https://example.com/ml.git}
environments:
  - {name: dev, namespace: ml-dev, cluster: "https://kubernetes.default.svc",
     nodePools: {cpu: {}}, quota: {cpu: "8", memory: 16Gi, pods: 20}}
  - {name: staging, namespace: ml-staging, cluster: "https://kubernetes.default.svc",
     nodePools: {cpu: {}}, quota: {cpu: "8", memory: 16Gi, pods: 20}}
  - {name: prod, namespace: ml-prod, cluster: "https://kubernetes.default.svc",
     nodePools: {cpu: {}}, quota: {cpu: "8", memory: 16Gi, pods: 20}}
"""


def model_yaml(sha: str) -> str:
    return f"""\
apiVersion: mlgitops/v1
kind: Model
metadata: {{name: iris, owner: team}}
spec:
  version: "1.0"
  artifact:
    path: model.onnx
    sha256: "{sha}"
"""


Tree = Callable[[Mapping[str, str | bytes]], Path]


@pytest.fixture
def root(tree: Tree) -> Path:
    return tree(
        {
            "environments.yaml": ENVIRONMENTS,
            "models/iris/model.yaml": model_yaml(SHA),
            "models/iris/model.onnx": ARTIFACT,
        }
    )


def invoke(command: click.Command, root: Path, *args: str) -> tuple[int, str, str]:
    """``mlgitops --root ROOT COMMAND ARGS`` through the one run_cli."""
    assert command.name is not None
    outcome = run_cli(command.name, *args, root=root)
    return outcome.exit_code, outcome.stdout, outcome.stderr


def test_promote_moves_the_pin_and_prints_the_change(root: Path) -> None:
    write_release(root / "models/iris/release.yaml", Release("iris", {"dev": DEV}), ["dev"])
    code, out, err = invoke(promote_command, root, "iris", "--to", "staging")
    assert (code, err) == (0, "")
    assert out.startswith("iris: promote dev -> staging\n  - (none)\n  + 127.0.0.1:5055/iris@")
    release = read_release(root / "models/iris/release.yaml", "x", "iris")
    staging = release.pin("staging")
    assert staging is not None
    assert (staging.image, staging.digest, staging.version) == (DEV.image, DEV.digest, "1.0")
    assert (root / "models/iris/release.yaml").read_text().startswith(HEADER)


def test_promote_refuses_without_a_pin_and_writes_nothing(root: Path) -> None:
    code, out, err = invoke(promote_command, root, "iris", "--to", "staging")
    assert (code, out) == (1, "")
    assert err == (
        "mlgitops promote: model 'iris' has no image pinned in 'dev'; "
        "run `mlgitops build --push` first\n"
    )
    assert not (root / "models/iris/release.yaml").exists()


def test_promote_unknown_model_names_the_known_ones(root: Path) -> None:
    code, _, err = invoke(promote_command, root, "nope", "--to", "staging")
    assert code == 1
    assert err == "models/nope/model.yaml:1:1: no model named 'nope' (known: iris)\n"


def test_promote_without_to_is_a_usage_error(root: Path) -> None:
    code, _, err = invoke(promote_command, root, "iris")
    assert code == 2
    assert "Missing option '--to'" in err


def test_build_checks_the_artifact_hash_before_anything_else(root: Path) -> None:
    (root / "models/iris/model.yaml").write_text(model_yaml("0" * 64))
    code, out, err = invoke(build_command, root, "iris")
    assert (code, out) == (1, "")
    assert err.startswith(
        f"models/iris/model.yaml:8:13: sha256 of models/iris/model.onnx is {SHA}, "
        "not the one written here\n"
    )


def test_build_without_an_engine_says_how_to_start_one(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    code, _, err = invoke(build_command, root, "iris")
    assert code == 2
    assert err.startswith(f"mlgitops build: no Docker engine answers at unix://{tmp_path}/")
    assert "scripts/e2e/services.sh start" in err


def test_build_changed_since_with_nothing_changed_builds_nothing(
    repo: Callable[[Mapping[str, str | bytes]], Path],
) -> None:
    root = repo(
        {
            "environments.yaml": ENVIRONMENTS,
            "models/iris/model.yaml": model_yaml(SHA),
            "models/iris/model.onnx": ARTIFACT,
        }
    )
    code, out, err = invoke(build_command, root, "--changed-since", "HEAD")
    assert (code, out, err) == (0, "no model changed since HEAD\n", "")


def test_build_changed_since_unknown_ref_is_a_usage_error(
    repo: Callable[[Mapping[str, str | bytes]], Path],
) -> None:
    root = repo({"environments.yaml": ENVIRONMENTS, "models/iris/model.yaml": model_yaml(SHA)})
    code, _, err = invoke(build_command, root, "--changed-since", "nope")
    assert code == 2
    assert err.startswith("mlgitops build: --changed-since nope: ")
