"""Fault 9 (every image of a requireDigest pod is pinned, with the fix in the hint) and
fault 4 (configuration a pod reads rolls the pod when it changes)."""

from __future__ import annotations

import json
from pathlib import Path

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML
from tests.hardening.conftest import built, kind, pod, repo

TAG = "image: fluent/fluentd:v1.17-1"
DIGEST = "sha256:" + "3" * 64
DEV_NAME = "  - name: dev\n"


def _require_digest_in_dev(platform: str = ENVIRONMENTS_YAML) -> str:
    return platform.replace(DEV_NAME, DEV_NAME + "    requireDigest: true\n")


def test_a_sidecar_tag_in_a_require_digest_environment_is_refused_at_the_image(
    tmp_path: Path,
) -> None:
    outcome = run_cli(
        "--format", "json", "validate", root=repo(tmp_path, platform=_require_digest_in_dev())
    )
    assert outcome.exit_code == 1
    found = [p for p in json.loads(outcome.stderr) if "Fluentd image" in p["message"]]
    assert [(p["file"], p["line"], p["column"]) for p in found] == [("environments.yaml", 17, 16)]
    assert found[0]["message"] == (
        "environment 'dev' sets requireDigest: true, but its Fluentd image "
        "'fluent/fluentd:v1.17-1' is a tag, which can be pushed again"
    )
    assert found[0]["hint"].startswith("pin it: image: fluent/fluentd:v1.17-1@sha256:<digest>")


def test_a_pinned_sidecar_reaches_the_pod_as_written(tmp_path: Path) -> None:
    platform = _require_digest_in_dev().replace(TAG, f"{TAG}@{DIGEST}", 1)
    root = repo(tmp_path, platform=platform, spec="logging: {fluentd: true}")
    plan = make_plan(RepoLayout(root))
    # Only the model image is left: it needs a release pin, which MLG109's own hint names.
    assert [p.message for p in plan.problems if "Fluentd" in p.message] == []
    platform_open = platform.replace("requireDigest: true", "requireDigest: false")
    objects = built(
        repo(tmp_path / "b", platform=platform_open, spec="logging: {fluentd: true}"), "dev"
    )
    images = {c["name"]: c["image"] for c in pod(objects)["containers"]}
    assert images["fluentd"] == f"fluent/fluentd:v1.17-1@{DIGEST}"


def _fluentd_config_name(objects: list[dict[str, object]]) -> str:
    volumes = {v["name"]: v for v in pod(objects)["volumes"]}
    name: str = volumes["fluentd-config"]["configMap"]["name"]
    return name


def test_a_changed_aggregator_rolls_the_pods_through_their_own_config_map(tmp_path: Path) -> None:
    spec = "logging: {fluentd: true}"
    before = built(repo(tmp_path / "a", spec=spec), "dev")
    moved = ENVIRONMENTS_YAML.replace("port: 24224}", "port: 24225}")
    after = built(repo(tmp_path / "b", platform=moved, spec=spec), "dev")
    old, new = _fluentd_config_name(before), _fluentd_config_name(after)
    assert old.startswith("mlgitops-fluentd-") and new.startswith("mlgitops-fluentd-")
    assert old != new  # a new pod template: Kubernetes rolls the pods
    config = kind(after, "ConfigMap", "mlgitops-fluentd")
    assert config["metadata"]["name"] == new
    assert "port 24225" in config["data"]["fluent.conf"]
    assert config["data"]["model"] == "fraud"


def test_each_model_owns_its_fluentd_config_map(tmp_path: Path) -> None:
    """Two Applications (or Flux Kustomizations) must never apply one object: each prunes
    what it applied."""
    root = repo(tmp_path, spec="logging: {fluentd: true}")
    second = root / "models" / "other"
    second.mkdir()
    (second / "model.onnx").write_bytes((root / "models/fraud/model.onnx").read_bytes())
    text = (root / "models/fraud/model.yaml").read_text().replace("name: fraud", "name: other")
    (second / "model.yaml").write_text(text)
    names = {_fluentd_config_name(built(root, "dev", m)) for m in ("fraud", "other")}
    assert len(names) == 2


def test_nothing_a_pod_reads_lives_in_the_namespace_overlay(tmp_path: Path) -> None:
    plan = make_plan(RepoLayout(repo(tmp_path, spec="logging: {fluentd: true}")))
    kinds = {
        f.obj["kind"]
        for f in plan.files
        if f.path.startswith("overlays/dev/_namespace/")
        and not f.path.endswith("kustomization.yaml")
    }
    assert kinds == {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy"}
