"""Shared helpers for the generator tests: a temporary repository built from a dict (the CLI
runner is tests/conftest.py's ``run_cli``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ARTIFACT = b"stand-in for an ONNX file: the generator only hashes it\n"
ARTIFACT_SHA256 = hashlib.sha256(ARTIFACT).hexdigest()

ENVIRONMENTS_YAML = """\
apiVersion: mlgitops/v1
kind: Platform
registry: registry.example.com/ml
kubernetesVersion: "1.33"
repository: {url: https://github.com/acme/ml-deployments.git, branch: main}
environments:
  - name: dev
    namespace: ml-dev
    cluster: https://kubernetes.default.svc
    nodePools:
      cpu: {nodeSelector: {pool: cpu}, tolerations: []}
    quota: {cpu: "16", memory: 64Gi, gpus: 0, pods: 60}
    logging:
      fluentd:
        enabled: true
        image: fluent/fluentd:v1.17-1
        aggregator: {host: fluentd.logging.svc.cluster.local, port: 24224}
    defaults:
      scaling: {minReplicas: 1, maxReplicas: 2}
  - name: prod
    namespace: ml-prod
    cluster: https://kubernetes.default.svc
    nodePools:
      cpu: {nodeSelector: {pool: cpu}, tolerations: []}
      gpu:
        nodeSelector: {pool: gpu}
        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
    quota: {cpu: "32", memory: 128Gi, gpus: 4, pods: 100}
"""


def model_yaml(
    *,
    name: str = "fraud",
    owner: str = "team-risk",
    spec: str = "",
    sha256: str = ARTIFACT_SHA256,
    resources: str = "{cpu: 250m, memory: 256Mi}",
) -> str:
    """A valid model.yaml; ``spec`` is extra YAML lines indented under ``spec:``."""
    extra = "".join(f"  {line}\n" for line in spec.splitlines())
    return (
        "apiVersion: mlgitops/v1\n"
        "kind: Model\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  owner: {owner}\n"
        "spec:\n"
        '  version: "1.0.0"\n'
        f"  artifact: {{path: model.onnx, sha256: {sha256}}}\n"
        f"  resources: {resources}\n" + extra
    )


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def build_repo(root: Path, files: Mapping[str, str | bytes], *, defaults: bool = True) -> Path:
    """A repository: the default environments.yaml, ``files`` on top, and the stand-in
    artifact in every model folder that brings its own model.yaml but no model.onnx."""
    tree: dict[str, str | bytes] = {"environments.yaml": ENVIRONMENTS_YAML} if defaults else {}
    tree.update(files)
    for name in list(tree):
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == "models" and parts[2] == "model.yaml":
            tree.setdefault(f"models/{parts[1]}/model.onnx", ARTIFACT)
    return write_tree(root, tree)


RepoFactory = Callable[[Mapping[str, str | bytes]], Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> RepoFactory:
    def make(files: Mapping[str, str | bytes]) -> Path:
        return build_repo(tmp_path / "repo", files)

    return make


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (links as their target text), for before/after comparisons."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            files[key] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            files[key] = path.read_bytes()
    return files
