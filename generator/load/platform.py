"""The platform description (environments.yaml) as typed, defaulted, read-only data."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.load.defaults import with_defaults
from generator.load.inputschema import PLATFORM_SCHEMA
from generator.load.storage import BUFFER_VOLUME_SIZE, ephemeral_bound
from generator.load.yamlsource import Document

ARGOCD_NAMESPACE = "argocd"
"""Where Argo CD runs; rendered into its AppProject and ApplicationSets, reserved for models."""
FLUX_NAMESPACE = "flux-system"
"""Where Flux runs; rendered into its sources and Kustomizations, reserved for models."""
SIDECAR_STORAGE = ephemeral_bound(BUFFER_VOLUME_SIZE)
"""The Fluentd sidecar's ephemeral storage: its buffer emptyDir and its own log files."""
SIDECAR_REQUESTS = {"cpu": "50m", "memory": "96Mi", "ephemeral-storage": SIDECAR_STORAGE}
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
    ephemeral_storage: str | None = None


@dataclass(frozen=True)
class Peer:
    """The other side of a connection (environments.yaml / model.yaml ``networkPeer``):
    pods of a namespace (None: the environment's own) with labels, or an IP block."""

    namespace: str | None = None
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    cidr: str | None = None


def peer_from(data: Mapping[str, Any]) -> Peer:
    return Peer(data.get("namespace"), dict(data.get("podLabels", {})), data.get("cidr"))


OWN_NAMESPACE = (Peer(),)
CLUSTER_DNS = Peer("kube-system", {"k8s-app": "kube-dns"})


@dataclass(frozen=True)
class Network:
    """Who may call and scrape the models; where DNS is. Defaults: own namespace only."""

    callers: tuple[Peer, ...] = OWN_NAMESPACE
    scrapers: tuple[Peer, ...] = OWN_NAMESPACE
    dns: Peer = CLUSTER_DNS


@dataclass(frozen=True)
class Fluentd:
    image: str
    aggregator_host: str
    aggregator_port: int
    aggregator_peer: Peer | None = None
    """Where log shipping may go; None when the host names no namespace (semantic refuses)."""


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
class SpreadConstraint:
    topology_key: str
    max_skew: int
    when_unsatisfiable: str
    min_domains: int | None = None


@dataclass(frozen=True)
class Placement:
    """Where model pods run (environments.yaml ``placement``, defaults from the schema)."""

    spread: tuple[SpreadConstraint, ...] = ()
    priority_class_name: str | None = None
    kubernetes_version: str = "1.33"
    """Spread fields newer than the target version are left out (see render.placement)."""


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
    placement: Placement = Placement()
    network: Network = Network()


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


_SERVICE_HOST = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.(?P<namespace>[a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\..+)?$"
)


def aggregator_peer(aggregator: Mapping[str, Any]) -> Peer | None:
    """The declared ``peer``, else the namespace of a ``<service>.<namespace>.svc`` host, else
    the host itself when it is an IP address; None when nothing says where the host is."""
    if "peer" in aggregator:
        return peer_from(aggregator["peer"])
    host = str(aggregator["host"])
    match = _SERVICE_HOST.match(host)
    if match:
        return Peer(namespace=match.group("namespace"))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return Peer(cidr=f"{address}/{address.max_prefixlen}")


def _network(data: Mapping[str, Any]) -> Network:
    return Network(
        callers=tuple(peer_from(p) for p in data["callers"])
        if "callers" in data
        else OWN_NAMESPACE,
        scrapers=(
            tuple(peer_from(p) for p in data["scrapers"]) if "scrapers" in data else OWN_NAMESPACE
        ),
        dns=peer_from(data["dns"]) if "dns" in data else CLUSTER_DNS,
    )


def _placement(data: Mapping[str, Any], kubernetes_version: str) -> Placement:
    given = with_defaults(
        dict(data.get("placement", {})), PLATFORM_SCHEMA, "/$defs/environment/properties/placement"
    )
    return Placement(
        spread=tuple(
            SpreadConstraint(
                topology_key=item["topologyKey"],
                max_skew=item["maxSkew"],
                when_unsatisfiable=item["whenUnsatisfiable"],
                min_domains=item.get("minDomains"),
            )
            for item in given["topologySpreadConstraints"]
        ),
        priority_class_name=given.get("priorityClassName"),
        kubernetes_version=kubernetes_version,
    )


def _environment(
    data: Mapping[str, Any], index: int, last: bool, kubernetes_version: str
) -> Environment:
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
            cpu=quota["cpu"],
            memory=quota["memory"],
            gpus=quota["gpus"],
            pods=quota["pods"],
            ephemeral_storage=quota.get("ephemeralStorage"),
        ),
        fluentd=(
            Fluentd(
                fluentd["image"],
                aggregator["host"],
                aggregator["port"],
                aggregator_peer(aggregator),
            )
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
        placement=_placement(data, kubernetes_version),
        network=_network(data.get("network", {})),
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
            _environment(env, index, index == len(environments) - 1, data["kubernetesVersion"])
            for index, env in enumerate(environments)
        ),
        document=document,
    )
