"""NetworkPolicies: each namespace denies all ingress and egress; each model admits its
declared callers and scrapers and reaches its declared destinations; the namespace lets every
model pod reach the cluster DNS and its log aggregator.

Policies add up (a connection is allowed when any policy selecting the pod allows it), so the
namespace-wide allowances and a model's own never need to repeat each other. Ports are
selected by name where the pod names them (``http``, and any other named port of the server
container, such as ``grpc``), so a changed port number never leaves a policy behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from generator.load.platform import Environment, Peer
from generator.render.labels import ENVIRONMENT_LABEL, MANAGED_BY, SERVER_CONTAINER, selector

Object = dict[str, Any]
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by Kubernetes on every namespace (since 1.21, immutable): selects a namespace by name."""
METRICS_PORT = "http"
DNS_PORT = 53
PART_OF_LABEL = "app.kubernetes.io/part-of"


def network_peer(peer: Peer) -> Object:
    """A NetworkPolicyPeer: an ipBlock, or pods (by labels) of a named or the own namespace."""
    if peer.cidr:
        return {"ipBlock": {"cidr": peer.cidr}}
    result: Object = {}
    if peer.namespace:
        result["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: peer.namespace}}
    result["podSelector"] = {"matchLabels": dict(peer.pod_labels)} if peer.pod_labels else {}
    return result


def _ports(names: Iterable[str | int], protocol: str = "TCP") -> list[Object]:
    return [{"port": name, "protocol": protocol} for name in names]


def serving_port_names(deployment: Mapping[str, Any]) -> list[str]:
    """Names of the server container's ports in a rendered Deployment (http, grpc, ...)."""
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        if container["name"] == SERVER_CONTAINER:
            return [port["name"] for port in container.get("ports", []) if "name" in port]
    return []


def ingress_rules(env: Environment, port_names: Sequence[str]) -> list[Object]:
    """Callers on every serving port, scrapers on the metrics port. An empty peer list gives
    no rule at all: a rule without ``from`` would admit every source."""
    rules: list[Object] = []
    for peers, ports in ((env.network.callers, port_names), (env.network.scrapers, [METRICS_PORT])):
        rule = {"from": [network_peer(p) for p in peers], "ports": _ports(ports)}
        covered = any(
            r["from"] == rule["from"] and all(p in r["ports"] for p in rule["ports"]) for r in rules
        )
        if peers and not covered:
            rules.append(rule)
    return rules


def egress_rules(egress: Iterable[Mapping[str, Any]]) -> list[Object]:
    """The model's declared destinations (model.yaml spec.network.egress)."""
    rules = []
    for rule in egress:
        peer = Peer(rule.get("namespace"), dict(rule.get("podLabels", {})), rule.get("cidr"))
        ports = [{"port": p["port"], "protocol": p.get("protocol", "TCP")} for p in rule["ports"]]
        rules.append({"to": [network_peer(peer)], "ports": ports})
    return rules


def model_policy_spec(
    model: str, env: Environment, port_names: Sequence[str], egress: Iterable[Mapping[str, Any]]
) -> Object:
    spec: Object = {
        "podSelector": {"matchLabels": selector(model)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress_rules(env, port_names),
    }
    destinations = egress_rules(egress)
    if destinations:
        spec["egress"] = destinations
    return spec


def _namespace_policy(env: Environment, name: str, spec: Object) -> Object:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": {**MANAGED_BY, ENVIRONMENT_LABEL: env.name}},
        "spec": spec,
    }


def namespace_policies(env: Environment) -> dict[str, Object]:
    """File name -> NetworkPolicy for ``overlays/<env>/_namespace/``."""
    every_pod: Object = {}
    files = {
        "networkpolicy.yaml": _namespace_policy(
            env, "default-deny-ingress", {"podSelector": every_pod, "policyTypes": ["Ingress"]}
        ),
        "networkpolicy-egress.yaml": _namespace_policy(
            env, "default-deny-egress", {"podSelector": every_pod, "policyTypes": ["Egress"]}
        ),
        "networkpolicy-dns.yaml": _namespace_policy(
            env,
            "allow-dns",
            {
                "podSelector": every_pod,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [network_peer(env.network.dns)],
                        "ports": _ports([DNS_PORT], "UDP") + _ports([DNS_PORT], "TCP"),
                    }
                ],
            },
        ),
    }
    if env.fluentd is not None and env.fluentd.aggregator_peer is not None:
        files["networkpolicy-logging.yaml"] = _namespace_policy(
            env,
            "allow-log-aggregator",
            {
                # Model pods only (the sidecars ship the logs), not whatever else runs here.
                "podSelector": {"matchLabels": {PART_OF_LABEL: "mlgitops"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [network_peer(env.fluentd.aggregator_peer)],
                        "ports": _ports([env.fluentd.aggregator_port]),
                    }
                ],
            },
        )
    return files
