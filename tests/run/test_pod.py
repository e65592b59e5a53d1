"""What `mlgitops up` plays: the built pod with only the cluster-only parts substituted.

Pure (no container runtime): the real plan and real kustomize build each example overlay, and
`plan_pod` turns it into Podman's input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.layout import RepoLayout
from generator.render.fluentd import fluentd_patch, native_sidecars
from generator.run.overlay import UsageError, built_objects, plan_for
from generator.run.pod import SECRET_PLACEHOLDER, Aggregator, PlayPlan, plan_pod

REPO = Path(__file__).resolve().parents[2]
Object = dict[str, Any]


def built(model: str, env: str) -> list[Object]:
    layout = RepoLayout(REPO)
    return built_objects(plan_for(layout, model, env), model, env)


def played(objects: list[Object], **overrides: Any) -> PlayPlan:
    arguments: dict[str, Any] = {
        "pod_name": "p",
        "namespace": "ml-test",
        "images": {"server": "local/server:1", "fluentd": "local/fluentd:1"},
        "ports": {"http": 18080},
        "aggregator": Aggregator("10.88.0.9", 24224),
    }
    return plan_pod(objects, **(arguments | overrides))


def pod_of(plan: PlayPlan) -> Object:
    return next(d for d in plan.documents if d["kind"] == "Pod")


def template_of(objects: list[Object]) -> Object:
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    return dict(deployment["spec"]["template"])


@pytest.fixture(scope="module")
def staging_diabetes() -> list[Object]:
    return built("diabetes-regressor", "staging")


def test_the_native_sidecar_starts_with_the_server_and_stops_after_it(
    staging_diabetes: list[Object],
) -> None:
    template = template_of(staging_diabetes)
    assert [c["name"] for c in template["spec"]["initContainers"]] == ["fluentd"]
    plan = played(staging_diabetes)
    spec = pod_of(plan)["spec"]
    assert "initContainers" not in spec
    assert [c["name"] for c in spec["containers"]] == ["fluentd", "server"]
    assert "restartPolicy" not in spec["containers"][0]
    assert plan.stop_stages() == [["server"], ["fluentd"]]


def test_what_is_not_substituted_is_played_exactly_as_built(
    staging_diabetes: list[Object],
) -> None:
    template = template_of(staging_diabetes)
    spec = pod_of(played(staging_diabetes))["spec"]
    built_containers = {
        c["name"]: c for c in [*template["spec"]["initContainers"], *template["spec"]["containers"]]
    }
    for container in spec["containers"]:
        source = built_containers[container["name"]]
        for key in ("securityContext", "resources", "args", "volumeMounts", "command"):
            assert container.get(key) == source.get(key), (container["name"], key)
        renamed = [
            {"configMapRef": {"name": f"p-{s['configMapRef']['name']}"}}
            for s in source.get("envFrom", [])
        ]
        assert container.get("envFrom", []) == renamed
    for key in ("securityContext", "terminationGracePeriodSeconds", "serviceAccountName"):
        assert spec[key] == template["spec"][key]


def test_each_empty_dir_becomes_a_fresh_volume_of_this_pod_with_its_size(
    staging_diabetes: list[Object],
) -> None:
    template = template_of(staging_diabetes)
    plan = played(staging_diabetes)
    limits = {
        v["name"]: v["emptyDir"].get("sizeLimit")
        for v in template["spec"]["volumes"]
        if "emptyDir" in v
    }
    assert set(limits) == {"tmp", "model-logs", "fluentd-buffer", "fluentd-tmp"}
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod_of(plan)["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {name: f"p-{name}" for name in limits}
    sizes = {d.volume: d.size_bytes for d in plan.empty_dirs}
    assert sizes["p-model-logs"] == 512 * 2**20
    assert sizes["p-fluentd-tmp"] == 16 * 2**20
    assert {(d.user, d.group) for d in plan.empty_dirs} == {(10001, 10001)}


def test_cluster_only_values_are_substituted_and_said(staging_diabetes: list[Object]) -> None:
    plan = played(staging_diabetes)
    spec = pod_of(plan)["spec"]
    env = {(c["name"], v["name"]): v for c in spec["containers"] for v in c.get("env", [])}
    assert env[("fluentd", "POD_NAMESPACE")] == {"name": "POD_NAMESPACE", "value": "ml-test"}
    assert env[("server", "DB_PASSWORD")]["value"] == SECRET_PLACEHOLDER
    assert "valueFrom" in env[("fluentd", "POD_NAME")]  # Podman supports this one
    assert {c["image"] for c in spec["containers"]} == {"local/server:1", "local/fluentd:1"}
    assert "nodeSelector" not in spec and "topologySpreadConstraints" not in spec
    conf = next(
        d for d in plan.documents if d["kind"] == "ConfigMap" and "fluent.conf" in d.get("data", {})
    )
    assert "host 10.88.0.9\n" in conf["data"]["fluent.conf"]
    assert "port 24224\n" in conf["data"]["fluent.conf"]
    assert "fluentd.logging.svc.cluster.local" not in conf["data"]["fluent.conf"]
    # The overlay's ConfigMap is named by its content's hash; Podman shares volumes by name, so
    # the pod gets its own copy under a pod-private name.
    (built,) = [
        d["metadata"]["name"]
        for d in staging_diabetes
        if d["kind"] == "ConfigMap" and "fluent.conf" in d.get("data", {})
    ]
    assert built.startswith("mlgitops-fluentd-")
    assert conf["metadata"]["name"] == f"p-{built}"
    assert plan.config_map_volumes() == [f"p-{built}"]
    said = "\n".join(plan.substitutions)
    for fragment in (
        "native sidecar fluentd",
        "POD_NAMESPACE",
        "DB_PASSWORD",
        "127.0.0.1:18080",
        "node selection",
        "emptyDir",
        "aggregator",
    ):
        assert fragment in said


def test_every_container_port_of_the_server_is_published(staging_diabetes: list[Object]) -> None:
    server = next(
        c for c in template_of(staging_diabetes)["spec"]["containers"] if c["name"] == "server"
    )
    assert [(p["name"], p["containerPort"]) for p in server["ports"]] == [
        ("http", 8080),
        ("grpc", 8081),
    ]
    plan = played(staging_diabetes, ports={"http": 18080, "grpc": 18081})
    ports = next(c for c in pod_of(plan)["spec"]["containers"] if c["name"] == "server")["ports"]
    assert [(p["containerPort"], p["hostPort"], p["hostIP"]) for p in ports] == [
        (8080, 18080, "127.0.0.1"),
        (8081, 18081, "127.0.0.1"),
    ]
    assert plan.http_port == 18080 and plan.ports == {"http": 18080, "grpc": 18081}


def test_a_gpu_overlay_runs_on_the_cpu_with_a_warning() -> None:
    objects = built("digits-classifier", "prod")
    server = next(c for c in template_of(objects)["spec"]["containers"] if c["name"] == "server")
    assert "nvidia.com/gpu" in server["resources"]["limits"]
    plan = played(objects, aggregator=None)
    played_server = next(c for c in pod_of(plan)["spec"]["containers"] if c["name"] == "server")
    assert "nvidia.com/gpu" not in played_server["resources"]["limits"]
    providers = [v["value"] for v in played_server["env"] if v["name"] == "ORT_PROVIDERS"]
    assert providers == ["CPUExecutionProvider"]
    assert any("passes no GPU" in w for w in plan.warnings)
    assert "tolerations" not in pod_of(plan)["spec"]


def test_unknown_names_are_usage_errors() -> None:
    layout = RepoLayout(REPO)
    with pytest.raises(UsageError, match="unknown model 'nope'"):
        plan_for(layout, "nope", "dev")
    with pytest.raises(UsageError, match="unknown environment 'qa'"):
        plan_for(layout, "iris-classifier", "qa")


@pytest.mark.parametrize(
    ("version", "native"), [("1.27", False), ("1.28", False), ("1.29", True), ("1.33", True)]
)
def test_native_sidecars_where_the_cluster_runs_them_by_default(version: str, native: bool) -> None:
    assert native_sidecars(version) is native


def test_the_sidecar_patch_for_each_kind_of_cluster(staging_diabetes: list[Object]) -> None:
    from generator.load.repository import load_platform

    platform, _ = load_platform(RepoLayout(REPO))
    assert platform is not None
    env = platform.environments[0]
    old = fluentd_patch(env, native=False)["spec"]["template"]["spec"]
    new = fluentd_patch(env, native=True)["spec"]["template"]["spec"]
    assert [c["name"] for c in old["containers"]] == ["server", "fluentd"]
    assert "initContainers" not in old
    assert [c["name"] for c in new["containers"]] == ["server"]
    assert [(c["name"], c["restartPolicy"]) for c in new["initContainers"]] == [
        ("fluentd", "Always")
    ]
