"""render/base.py: the environment-independent base of one model."""

from __future__ import annotations

from generator.render.base import (
    BASE_RESOURCES,
    deployment,
    network_policy,
    pod_disruption_budget,
    render_base,
    server_config,
    server_resources,
)
from tests.unit.render.conftest import SpecsFactory


def test_the_base_lists_each_of_its_files_once(specs: SpecsFactory) -> None:
    files = render_base(specs().base)

    assert sorted(files) == sorted([name for name, _ in BASE_RESOURCES] + ["kustomization.yaml"])
    assert files["kustomization.yaml"]["resources"] == [name for name, _ in BASE_RESOURCES]
    kinds = [files[name]["kind"] for name, _ in BASE_RESOURCES]
    assert kinds == [
        "ServiceAccount",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ]


def test_the_server_runs_restricted_with_its_requests_and_a_memory_limit(
    specs: SpecsFactory,
) -> None:
    spec = specs(resources="{cpu: 750m, memory: 1Gi}").base
    pod = deployment(spec)["spec"]["template"]["spec"]
    [server] = pod["containers"]

    assert server["name"] == "server"
    # Ephemeral storage: /tmp's 256Mi sizeLimit plus 64Mi of kubelet-rotated logs (issue 13).
    assert server["resources"] == {
        "requests": {"cpu": "750m", "memory": "1Gi", "ephemeral-storage": "320Mi"},
        "limits": {"memory": "1Gi", "ephemeral-storage": "320Mi"},
    }
    assert server["securityContext"]["allowPrivilegeEscalation"] is False
    assert server["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert server["image"] == f"{spec.image}:1.0.0"


def test_secret_refs_become_secret_key_refs_never_values(specs: SpecsFactory) -> None:
    spec = specs(spec="secretRefs: [{env: DB_URL, secret: fraud-db, key: url}]").base
    [server] = deployment(spec)["spec"]["template"]["spec"]["containers"]

    assert server["env"] == [
        {"name": "PORT", "value": "8080"},
        {"name": "GRPC_PORT", "value": "8081"},
        {"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": "fraud-db", "key": "url"}}},
    ]
    assert "DB_URL" not in server_config(spec)


def test_server_config_carries_the_model_and_its_own_config(specs: SpecsFactory) -> None:
    spec = specs(spec="config: {FEATURE_SET: v3}").base

    config = server_config(spec)

    assert (config["MODEL_NAME"], config["MODEL_VERSION"], config["DRAIN_SECONDS"]) == (
        "fraud",
        "1.0.0",
        "5",
    )
    # PORT sits beside containerPort on the container, not in the ConfigMap (issue 13).
    assert "PORT" not in config
    assert config["FEATURE_SET"] == "v3"


def test_a_gpu_model_asks_its_pool_for_the_gpus_in_its_limits(specs: SpecsFactory) -> None:
    prod = specs(spec="environments: {prod: {accelerator: gpu, gpus: 2}}").deployments["prod"]
    pool = prod.environment.gpu_pool
    assert pool is not None

    assert server_resources(prod)["limits"][pool.resource_name] == "2"


def test_budget_and_network_policy_select_the_model_pods(specs: SpecsFactory) -> None:
    spec = specs().base
    pods = deployment(spec)["spec"]["template"]["metadata"]["labels"]

    for obj in (pod_disruption_budget(spec), network_policy(spec)):
        selector = obj["spec"].get("selector") or obj["spec"]["podSelector"]
        assert selector["matchLabels"].items() <= pods.items()
    # The base admits its own namespace only; environments declare other callers (issue 13).
    assert network_policy(spec)["spec"]["ingress"] == [
        {
            "from": [{"podSelector": {}}],
            "ports": [{"port": "http", "protocol": "TCP"}, {"port": "grpc", "protocol": "TCP"}],
        }
    ]
