"""The platform description (environments.yaml) as typed, defaulted, read-only data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.load.defaults import with_defaults
from generator.load.inputschema import PLATFORM_SCHEMA
from generator.load.yamlsource import Document

ARGOCD_NAMESPACE = "argocd"
"""Where Argo CD runs; rendered into its AppProject and ApplicationSets, reserved for models."""
FLUX_NAMESPACE = "flux-system"
"""Where Flux runs; rendered into its sources and Kustomizations, reserved for models."""
SIDECAR_REQUESTS = {"cpu": "50m", "memory": "96Mi"}
"""What the Fluentd sidecar of an environment with ``fluentd`` requests in every model pod
(the sidecar is rendered with it, and the quota sums count it)."""


@dataclass(frozen=True)
class NodePool:
    node_selector: Mapping[str, str]
    tolerations: tuple[Mapping[str, Any], ...]
    resource_name: str


@dataclass(frozen=True)
class Quota:
    cpu: str
    memory: str
    gpus: int
    pods: int


@dataclass(frozen=True)
class Fluentd:
    image: str
    aggregator_host: str
    aggregator_port: int


@dataclass(frozen=True)
class SyncPolicy:
    automated: bool
    prune: bool
    self_heal: bool


@dataclass(frozen=True)
class Monitoring:
    prometheus_operator: bool = False
    grafana_dashboards: bool = False
    prometheus_address: str = "http://prometheus-operated.monitoring.svc:9090"


@dataclass(frozen=True)
class Environment:
    name: str
    index: int
    namespace: str
    cluster: str
    require_digest: bool
    sync: SyncPolicy
    cpu_pool: NodePool
    gpu_pool: NodePool | None
    quota: Quota
    fluentd: Fluentd | None
    defaults: Mapping[str, Any]
    monitoring: Monitoring = Monitoring()
    progressive_delivery: str = "none"


@dataclass(frozen=True)
class Platform:
    registry: str
    kubernetes_version: str
    repository_url: str
    repository_branch: str
    controller: str
    environments: tuple[Environment, ...]
    document: Document

    def environment(self, name: str) -> Environment | None:
        return next((env for env in self.environments if env.name == name), None)

    @property
    def environment_names(self) -> list[str]:
        return [env.name for env in self.environments]


def _node_pool(data: Mapping[str, Any]) -> NodePool:
    return NodePool(
        node_selector=dict(data.get("nodeSelector", {})),
        tolerations=tuple(dict(t) for t in data.get("tolerations", [])),
        resource_name=str(data["resourceName"]),
    )


def _environment(data: Mapping[str, Any], index: int, last: bool) -> Environment:
    fluentd = data.get("logging", {}).get("fluentd", {})
    aggregator = fluentd.get("aggregator", {})
    sync = data.get("sync", {})
    pools = data["nodePools"]
    quota = data["quota"]
    monitoring = data.get("monitoring", {})
    return Environment(
        name=data["name"],
        index=index,
        namespace=data["namespace"],
        cluster=data["cluster"],
        require_digest=bool(data["requireDigest"]),
        sync=SyncPolicy(
            automated=bool(sync.get("automated", not last)),
            prune=bool(sync.get("prune", True)),
            self_heal=bool(sync.get("selfHeal", True)),
        ),
        cpu_pool=_node_pool(pools["cpu"]),
        gpu_pool=_node_pool(pools["gpu"]) if "gpu" in pools else None,
        quota=Quota(
            cpu=quota["cpu"], memory=quota["memory"], gpus=quota["gpus"], pods=quota["pods"]
        ),
        fluentd=(
            Fluentd(fluentd["image"], aggregator["host"], aggregator["port"])
            if fluentd.get("enabled") and "host" in aggregator
            else None
        ),
        defaults=data.get("defaults", {}),
        monitoring=Monitoring(
            prometheus_operator=bool(monitoring.get("prometheusOperator", False)),
            grafana_dashboards=bool(monitoring.get("grafanaDashboards", False)),
            prometheus_address=str(
                monitoring.get("prometheusAddress", Monitoring.prometheus_address)
            ),
        ),
        progressive_delivery=str(data.get("progressiveDelivery", "none")),
    )


def build_platform(document: Document) -> Platform:
    """Typed view of a schema-valid environments.yaml."""
    raw = dict(document.data)
    given_defaults = [env.get("defaults", {}) for env in raw["environments"]]
    data = with_defaults(raw, PLATFORM_SCHEMA)
    environments = data["environments"]
    for env, defaults in zip(environments, given_defaults, strict=True):
        env["defaults"] = defaults
    return Platform(
        registry=data["registry"],
        kubernetes_version=data["kubernetesVersion"],
        repository_url=data["repository"]["url"],
        repository_branch=data["repository"]["branch"],
        controller=data.get("gitops", {}).get("controller", "both"),
        environments=tuple(
            _environment(env, index, index == len(environments) - 1)
            for index, env in enumerate(environments)
        ),
        document=document,
    )
