"""``mlgitops rollback MODEL --env ENV [--to VERSION]`` on real Git repositories: the pin goes
back to the one before (or to VERSION's) as a change to commit, which ``validate`` and ``diff``
then show; clear errors, and no change on disk, when there is nothing to roll back to or the
target lacks a digest the environment requires."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.load.release import Pin, Release, dump_release, read_release
from tests.delivery.conftest import Tree, git

ARTIFACT = b"not really onnx"
SHA = hashlib.sha256(ARTIFACT).hexdigest()
ORDER = ("dev", "prod")
ENVIRONMENTS = """\
apiVersion: mlgitops/v1
kind: Platform
registry: registry.example.com/ml
kubernetesVersion: "1.33"
repository: {url: https://example.com/ml.git}
environments:
  - {name: dev, namespace: ml-dev, cluster: "https://kubernetes.default.svc",
     nodePools: {cpu: {}}, quota: {cpu: "8", memory: 16Gi, pods: 20}}
  - {name: prod, namespace: ml-prod, cluster: "https://kubernetes.default.svc", requireDigest: true,
     nodePools: {cpu: {}, gpu: {}}, quota: {cpu: "8", memory: 16Gi, gpus: 8, pods: 20}}
"""


def model_yaml(version: str, prod_gpu: bool = False) -> str:
    gpu = "  environments: {prod: {accelerator: gpu}}\n" if prod_gpu else ""
    return (
        "apiVersion: mlgitops/v1\nkind: Model\nmetadata: {name: iris, owner: team}\nspec:\n"
        f'  version: "{version}"\n  artifact: {{path: model.onnx, sha256: "{SHA}"}}\n' + gpu
    )


def pin(version: str, letter: str, gpu: bool = False) -> Pin:
    return Pin(
        "registry.example.com/ml/iris",
        "sha256:" + letter * 64,
        version,
        "2026-01-01T00:00:00Z",
        "sha256:" + "f" * 63 + letter if gpu else None,
    )


Commit = Callable[..., Path]


@pytest.fixture
def history(tmp_path: Path, tree: Tree) -> Commit:
    """Commit one release of the model per call: ``history("1.0", "a")`` pins version 1.0 with
    digest sha256:aaa... in every environment."""
    git(tmp_path, "init", "-q", "-b", "main")

    def commit(version: str, letter: str, *, gpu: bool = False, prod_gpu: bool = False) -> Path:
        files: Mapping[str, str | bytes] = {
            "environments.yaml": ENVIRONMENTS,
            "models/iris/model.yaml": model_yaml(version, prod_gpu),
            "models/iris/model.onnx": ARTIFACT,
            "models/iris/release.yaml": dump_release(
                Release("iris", {env: pin(version, letter, gpu) for env in ORDER}), ORDER
            ),
        }
        tree(files)
        identity = ("-c", "user.name=t", "-c", "user.email=t@example.com")
        git(tmp_path, *identity, "add", "-A")
        git(tmp_path, *identity, "commit", "-qm", f"release {version}")
        return tmp_path

    return commit


def run(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--root", str(root), *args])
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def _release(root: Path) -> Release:
    return read_release(root / "models/iris/release.yaml", "release.yaml", "iris")


def test_rollback_pins_the_previous_release_as_a_change_to_commit(history: Commit) -> None:
    history("1.0", "a")
    root = history("1.1", "b")
    head = git(root, "rev-parse", "--short", "HEAD~1").strip()

    code, out, err = run(root, "rollback", "iris", "--env", "prod")

    assert (code, err) == (0, "")
    assert out == (
        f"iris: roll back prod to version 1.0 (pinned at {head} (prod))\n"
        f"  - registry.example.com/ml/iris@sha256:{'b' * 64} (version 1.1)\n"
        f"  + registry.example.com/ml/iris@sha256:{'a' * 64} (version 1.0)\n"
        "commit models/iris/release.yaml; 'mlgitops validate' and 'mlgitops diff' show the change\n"
    )
    release = _release(root)
    assert release.pin("prod") is not None and release.pin("prod").digest == "sha256:" + "a" * 64
    assert release.pin("dev") == pin("1.1", "b")
    assert git(root, "status", "--porcelain").strip() == "M models/iris/release.yaml"
    # The change shows up like any other: the prod overlay's image digest moves back.
    code, out, _ = run(root, "diff", "--base", "HEAD")
    assert code == 0
    assert "prod/iris Deployment" in out and "a" * 64 in out


def test_to_version_pins_that_release(history: Commit) -> None:
    history("1.0", "a")
    history("1.1", "b")
    root = history("1.2", "c")

    code, out, _ = run(root, "rollback", "iris", "--env", "prod", "--to", "1.0")

    assert code == 0
    assert "roll back prod to version 1.0" in out
    assert _release(root).pin("prod").digest == "sha256:" + "a" * 64  # type: ignore[union-attr]


def test_a_second_rollback_goes_further_back_than_the_uncommitted_one(history: Commit) -> None:
    """Twice without committing: 1.2 -> 1.1 -> 1.0, not back to 1.2 (the pin before the
    current one is the one before where the current pin entered the history)."""
    history("1.0", "a")
    history("1.1", "b")
    root = history("1.2", "c")

    run(root, "rollback", "iris", "--env", "prod")
    assert _release(root).pin("prod").version == "1.1"  # type: ignore[union-attr]
    code, out, _ = run(root, "rollback", "iris", "--env", "prod")

    assert code == 0
    assert "roll back prod to version 1.0" in out
    assert _release(root).pin("prod").version == "1.0"  # type: ignore[union-attr]


def test_nothing_to_roll_back_to_is_a_clear_error_and_changes_nothing(history: Commit) -> None:
    root = history("1.0", "a")
    before = (root / "models/iris/release.yaml").read_bytes()

    code, out, err = run(root, "rollback", "iris", "--env", "prod")

    assert (code, out) == (1, "")
    assert err == (
        "mlgitops rollback: nothing to roll back to: 'prod' has had no other pin than "
        f"registry.example.com/ml/iris@sha256:{'a' * 64} (version 1.0) in the history of "
        "models/iris/release.yaml\n"
    )
    assert (root / "models/iris/release.yaml").read_bytes() == before


def test_an_unknown_version_lists_the_versions_there_are(history: Commit) -> None:
    history("1.0", "a")
    root = history("1.1", "b")

    code, _, err = run(root, "rollback", "iris", "--env", "prod", "--to", "0.9")

    assert code == 1
    assert err == (
        "mlgitops rollback: no pin of version '0.9' in the history of models/iris/release.yaml "
        "(versions pinned there: 1.0, 1.1)\n"
    )


def test_a_gpu_target_without_gpu_digest_where_digests_are_required(history: Commit) -> None:
    history("1.0", "a", gpu=False, prod_gpu=True)
    root = history("1.1", "b", gpu=True, prod_gpu=True)
    before = (root / "models/iris/release.yaml").read_bytes()
    head = git(root, "rev-parse", "--short", "HEAD~1").strip()

    code, _, err = run(root, "rollback", "iris", "--env", "prod")

    assert code == 1
    assert err == (
        f"mlgitops rollback: the pin of version 1.0 ({head}, prod) has no gpuDigest, and iris "
        "runs on a GPU in 'prod', which requires a pinned digest; roll back to a version built "
        "with its GPU image (--to VERSION), or build and promote a new one\n"
    )
    assert (root / "models/iris/release.yaml").read_bytes() == before
    # dev runs on the CPU: its rollback needs no GPU image.
    assert run(root, "rollback", "iris", "--env", "dev")[0] == 0


def test_unknown_environment_and_no_git_history(history: Commit, tmp_path: Path) -> None:
    root = history("1.0", "a")

    assert run(root, "rollback", "iris", "--env", "qa")[2] == (
        "mlgitops rollback: unknown environment 'qa'; known: dev, prod\n"
    )
    (root / ".git").rename(root / "git-moved")
    code, _, err = run(root, "rollback", "iris", "--env", "prod")
    assert code == 2
    assert err.startswith("mlgitops rollback: cannot read the history of release.yaml: ")
