"""Models on a GPU run the image built on the GPU runtime: its digest where pinned, else its tag."""

from __future__ import annotations

from pathlib import Path

import yaml

from generator.load.release import Pin, Release, write_release
from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML, RepoFactory, model_yaml

CPU = "sha256:" + "a" * 64
GPU = "sha256:" + "b" * 64
IMAGE = "registry.example.com/ml/fraud"
REQUIRE_DIGEST_IN_PROD = ENVIRONMENTS_YAML.replace(
    "  - name: prod\n", "  - name: prod\n    requireDigest: true\n"
)


def _repo(make_repo: RepoFactory, platform: str = ENVIRONMENTS_YAML) -> Path:
    spec = "environments:\n  prod: {accelerator: gpu}"
    return make_repo(
        {"environments.yaml": platform, "models/fraud/model.yaml": model_yaml(spec=spec)}
    )


def _pin(root: Path, **pins: Pin) -> None:
    write_release(root / "models/fraud/release.yaml", Release("fraud", pins), ["dev", "prod"])


def _deployment_image(root: Path, env: str) -> str:
    outcome = run_cli("render", "fraud", "--env", env, root=root)
    assert outcome.exit_code == 0, outcome.stderr
    [deployment] = [o for o in yaml.safe_load_all(outcome.stdout) if o["kind"] == "Deployment"]
    image: str = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def test_a_gpu_environment_runs_the_gpu_digest_and_a_cpu_one_the_cpu_digest(
    make_repo: RepoFactory,
) -> None:
    root = _repo(make_repo)
    pin = Pin(IMAGE, CPU, "1.0.0", "2025-01-01T00:00:00Z", GPU)
    _pin(root, dev=pin, prod=pin)
    assert _deployment_image(root, "prod") == f"{IMAGE}@{GPU}"
    assert _deployment_image(root, "dev") == f"{IMAGE}@{CPU}"


def test_an_unpinned_gpu_environment_runs_the_gpu_tag(make_repo: RepoFactory) -> None:
    root = _repo(make_repo)
    assert _deployment_image(root, "prod") == f"{IMAGE}:1.0.0-gpu"
    assert _deployment_image(root, "dev") == f"{IMAGE}:1.0.0"


def test_a_pin_without_gpu_digest_is_a_warning_and_the_gpu_tag_runs(
    make_repo: RepoFactory,
) -> None:
    root = _repo(make_repo)
    _pin(root, prod=Pin(IMAGE, CPU, "1.0.0", "2025-01-01T00:00:00Z"))
    outcome = run_cli("validate", "--skip-build", root=root)
    assert outcome.exit_code == 0, outcome.stderr
    assert "fraud runs on a GPU in 'prod', but its pin there has no gpuDigest" in outcome.stderr
    assert "prod runs the unpinned ':1.0.0-gpu' tag meanwhile" in outcome.stderr
    assert _deployment_image(root, "prod") == f"{IMAGE}:1.0.0-gpu"


def test_require_digest_needs_the_gpu_digest_on_a_gpu(make_repo: RepoFactory) -> None:
    root = _repo(make_repo, REQUIRE_DIGEST_IN_PROD)
    _pin(root, prod=Pin(IMAGE, CPU, "1.0.0", "2025-01-01T00:00:00Z"))
    outcome = run_cli("validate", "--skip-build", root=root)
    assert outcome.exit_code == 1
    assert "models/fraud/model.yaml:4:" in outcome.stderr
    assert "its pin there has no gpuDigest" in outcome.stderr
    assert "mlgitops build fraud --push" in outcome.stderr
