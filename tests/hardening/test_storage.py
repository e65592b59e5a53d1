"""Fault 12: every container that writes an emptyDir has bounded ephemeral storage, equal to
the size limits it may fill plus its log files, and the quota can count it."""

from __future__ import annotations

import json
from pathlib import Path

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.quantities import memory_bytes
from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML
from tests.hardening.conftest import built, container, pod, repo

MI = 2**20


def _limits(objects: list[dict[str, object]]) -> dict[str, tuple[int, int]]:
    result = {}
    spec = pod(objects)
    # A native sidecar (an init container that keeps running) is bounded like a container.
    for item in spec["containers"] + spec.get("initContainers", []):
        resources = item["resources"]
        result[item["name"]] = (
            memory_bytes(resources["requests"]["ephemeral-storage"]),
            memory_bytes(resources["limits"]["ephemeral-storage"]),
        )
    return result


def test_each_container_is_bounded_by_the_emptydirs_it_writes(tmp_path: Path) -> None:
    root = repo(tmp_path, spec="logging: {fluentd: true}")
    with_sidecar, without = built(root, "dev"), built(root, "prod")
    on_disk = {
        v["name"]: v["emptyDir"]["sizeLimit"]
        for v in pod(with_sidecar)["volumes"]
        if "emptyDir" in v and v["emptyDir"].get("medium") != "Memory"
    }
    assert on_disk == {"tmp": "256Mi", "model-logs": "512Mi", "fluentd-buffer": "256Mi"}
    # The sidecar's /tmp (serverengine's socket) is a tmpfs: the kubelet charges it to the
    # container's memory, not to its ephemeral storage (Kubernetes docs, "emptyDir").
    in_memory = {
        v["name"]: v["emptyDir"]["sizeLimit"]
        for v in pod(with_sidecar)["volumes"]
        if v.get("emptyDir", {}).get("medium") == "Memory"
    }
    assert in_memory == {"fluentd-tmp": "16Mi"}
    # tmp + model-logs + 64Mi of kubelet-rotated logs; buffer + 64Mi; tmp + 64Mi.
    assert _limits(with_sidecar) == {
        "server": (832 * MI, 832 * MI),
        "fluentd": (320 * MI, 320 * MI),
    }
    assert _limits(without) == {"server": (320 * MI, 320 * MI)}
    mounts = {
        m["name"]: m.get("readOnly", False)
        for m in container(with_sidecar, "fluentd")["volumeMounts"]
    }
    assert mounts["model-logs"] is True  # read, not written: not counted for the sidecar


def test_namespace_defaults_bound_pods_that_bring_no_requests(tmp_path: Path) -> None:
    plan = make_plan(RepoLayout(repo(tmp_path)))
    (limit_range,) = [
        f.obj for f in plan.files if f.path == "overlays/dev/_namespace/limitrange.yaml"
    ]
    (limits,) = limit_range["spec"]["limits"]
    assert limits["defaultRequest"]["ephemeral-storage"] == "128Mi"
    assert limits["default"]["ephemeral-storage"] == "1Gi"


QUOTA = 'quota: {cpu: "16", memory: 64Gi, gpus: 0, pods: 60}'


def test_the_quota_counts_ephemeral_storage_where_the_platform_sets_it(tmp_path: Path) -> None:
    platform = ENVIRONMENTS_YAML.replace(QUOTA, QUOTA[:-1] + ", ephemeralStorage: 1Gi}")
    root = repo(tmp_path, platform=platform, spec="logging: {fluentd: true}")
    outcome = run_cli("--format", "json", "validate", root=root)
    assert outcome.exit_code == 1
    (problem,) = json.loads(outcome.stderr)
    # maxReplicas 2 x (server 832Mi + sidecar 320Mi) = 2304Mi, plus the rolling update's surge
    # pod (maxSurge 25% of 2 = 1 pod, 1152Mi) = 3456Mi > 1Gi.
    assert (problem["file"], problem["line"]) == ("environments.yaml", 12)
    assert problem["message"] == (
        "environment 'dev': requests.ephemeral-storage at maxReplicas plus the update surge is "
        "3456Mi (2304Mi + surge 1152Mi), over the quota of 1Gi (largest: fraud 2304Mi + surge "
        "1152Mi (rolling update, maxSurge 25%))"
    )


def test_the_resource_quota_object_carries_it(tmp_path: Path) -> None:
    platform = ENVIRONMENTS_YAML.replace(QUOTA, QUOTA[:-1] + ", ephemeralStorage: 10Gi}")
    plan = make_plan(RepoLayout(repo(tmp_path, platform=platform)))
    assert plan.ok
    quotas = {f.path: f.obj for f in plan.files if f.path.endswith("resourcequota.yaml")}
    assert (
        quotas["overlays/dev/_namespace/resourcequota.yaml"]["spec"]["hard"][
            "requests.ephemeral-storage"
        ]
        == "10Gi"
    )
    assert (
        "requests.ephemeral-storage"
        not in quotas["overlays/prod/_namespace/resourcequota.yaml"]["spec"]["hard"]
    )
