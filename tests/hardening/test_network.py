"""Fault 10: nothing declared means the model's own namespace only; the platform declares who
calls and scrapes; egress is denied but for DNS, the log aggregator and what a model declares;
ports are chosen by name, so every named serving port (gRPC too) follows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.layout import RepoLayout
from generator.load.platform import Environment
from generator.pipeline import make_plan
from generator.render.network import model_policy_spec
from generator.resolve import BASE_ENVIRONMENT
from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML
from tests.hardening.conftest import built, kind, repo

HTTP = [{"port": "http", "protocol": "TCP"}]
SERVING = [*HTTP, {"port": "grpc", "protocol": "TCP"}]  # every named port of the server
PROD = '    quota: {cpu: "32", memory: 128Gi, gpus: 4, pods: 100}\n'
AGGREGATOR = "aggregator: {host: fluentd.logging.svc.cluster.local, port: 24224}"


def _policy(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = kind(objects, "NetworkPolicy")["spec"]
    return spec


def test_without_declarations_only_the_own_namespace_may_connect(tmp_path: Path) -> None:
    policy = _policy(built(repo(tmp_path), "prod"))
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == [{"from": [{"podSelector": {}}], "ports": SERVING}]
    assert "egress" not in policy  # isolated: only the namespace-wide DNS and log rules apply


def test_declared_callers_and_scrapers_get_exactly_their_ports(tmp_path: Path) -> None:
    platform = ENVIRONMENTS_YAML.replace(
        PROD,
        PROD
        + "    network:\n"
        + "      callers: [{namespace: gateway}, {cidr: 10.8.0.0/16}]\n"
        + "      scrapers: [{namespace: monitoring, podLabels: {app: prometheus}}]\n",
    )
    root = repo(tmp_path, platform=platform)
    policy = _policy(built(root, "prod"))
    assert policy["ingress"] == [
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "gateway"}
                    },
                    "podSelector": {},
                },
                {"ipBlock": {"cidr": "10.8.0.0/16"}},
            ],
            "ports": SERVING,
        },
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {"matchLabels": {"app": "prometheus"}},
                }
            ],
            "ports": HTTP,
        },
    ]
    # dev declares nothing: its overlay keeps the base's own-namespace rule.
    assert _policy(built(root, "dev"))["ingress"] == [
        {"from": [{"podSelector": {}}], "ports": SERVING}
    ]


def test_an_empty_caller_list_admits_nobody_rather_than_everybody(tmp_path: Path) -> None:
    platform = ENVIRONMENTS_YAML.replace(PROD, PROD + "    network: {callers: [], scrapers: []}\n")
    assert _policy(built(repo(tmp_path, platform=platform), "prod"))["ingress"] == []


def test_every_named_serving_port_is_admitted_to_callers_and_metrics_to_scrapers() -> None:
    """A gRPC port (issue 14) becomes one more named port of the server container."""
    spec = model_policy_spec("fraud", BASE_ENVIRONMENT, ["http", "grpc"], ())
    assert spec["ingress"] == [
        {
            "from": [{"podSelector": {}}],
            "ports": [{"port": "http", "protocol": "TCP"}, {"port": "grpc", "protocol": "TCP"}],
        }
    ]
    assert isinstance(BASE_ENVIRONMENT, Environment)


def test_a_model_declares_its_own_egress(tmp_path: Path) -> None:
    spec = (
        "network:\n"
        "  egress:\n"
        "    - {namespace: features, podLabels: {app: redis}, ports: [{port: 6379}]}\n"
        "    - {cidr: 192.0.2.0/24, ports: [{port: 443}, {port: 53, protocol: UDP}]}"
    )
    policy = _policy(built(repo(tmp_path, spec=spec), "prod"))
    assert policy["egress"] == [
        {
            "ports": [{"port": 6379, "protocol": "TCP"}],
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "features"}
                    },
                    "podSelector": {"matchLabels": {"app": "redis"}},
                }
            ],
        },
        {
            "ports": [{"port": 443, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}],
        },
    ]


def test_the_namespace_denies_egress_and_allows_dns_and_the_aggregator(tmp_path: Path) -> None:
    plan = make_plan(RepoLayout(repo(tmp_path)))
    files = {f.path.rsplit("/", 1)[1]: f.obj for f in plan.files if "/dev/_namespace/" in f.path}
    assert files["networkpolicy-egress.yaml"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
    }
    assert files["networkpolicy-dns.yaml"]["spec"]["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                    },
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        }
    ]
    assert files["networkpolicy-logging.yaml"]["spec"]["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "logging"}
                    },
                    "podSelector": {},
                }
            ],
            "ports": [{"port": 24224, "protocol": "TCP"}],
        }
    ]
    assert "networkpolicy-logging.yaml" not in {
        f.path.rsplit("/", 1)[1] for f in plan.files if "/prod/_namespace/" in f.path
    }


def test_an_aggregator_given_by_address_is_reached_by_address(tmp_path: Path) -> None:
    platform = ENVIRONMENTS_YAML.replace(AGGREGATOR, "aggregator: {host: 10.1.2.3, port: 24224}")
    plan = make_plan(RepoLayout(repo(tmp_path, platform=platform)))
    (logging,) = [
        f.obj for f in plan.files if f.path.endswith("dev/_namespace/networkpolicy-logging.yaml")
    ]
    assert logging["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "10.1.2.3/32"}}]


def test_peers_the_api_server_or_a_reader_would_get_wrong_are_refused(tmp_path: Path) -> None:
    platform = ENVIRONMENTS_YAML.replace(
        AGGREGATOR, "aggregator: {host: logs.example.com}"
    ).replace(
        PROD,
        PROD + "    network: {callers: [{cidr: 10.8.0.1/16}, {cidr: 10.9.0.0/16, namespace: x}]}\n",
    )
    outcome = run_cli("--format", "json", "validate", root=repo(tmp_path, platform=platform))
    assert outcome.exit_code == 1
    problems = [
        (p["line"], p["column"], p["message"], p["hint"]) for p in json.loads(outcome.stderr)
    ]
    assert problems == [
        (
            17,
            28,
            "cannot tell where aggregator host 'logs.example.com' runs, so the namespace's "
            "egress policy cannot let the sidecars reach it",
            "write the host as <service>.<namespace>.svc.cluster.local, or declare "
            "peer: {namespace: <its namespace>} or peer: {cidr: <its addresses>}",
        ),
        (
            29,
            32,
            "cidr '10.8.0.1/16' is not an IP block: 10.8.0.1/16 has host bits set",
            "write the network address: cidr: 10.8.0.0/16",
        ),
        (
            29,
            53,
            "a peer is either pods (namespace, podLabels) or an IP block (cidr), not both",
            "split it into two entries",
        ),
    ]


def test_a_model_egress_cidr_is_checked_at_its_line(tmp_path: Path) -> None:
    spec = "network:\n  egress: [{cidr: 300.1.1.0/24, ports: [{port: 443}]}]"
    outcome = run_cli("validate", root=repo(tmp_path, spec=spec))
    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines()[0].startswith(
        "models/fraud/model.yaml:11:21: cidr '300.1.1.0/24' is not an IP block"
    )


def test_a_label_key_prefix_longer_than_a_dns_subdomain_is_refused(tmp_path: Path) -> None:
    key = "a" * 254 + "/app"
    spec = f"network:\n  egress: [{{podLabels: {{{key}: db}}, ports: [{{port: 5432}}]}}]"
    outcome = run_cli("validate", root=repo(tmp_path, spec=spec))
    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines()[0] == (
        "models/fraud/model.yaml:11:27: the prefix of label key "
        f"{key[:40]!r}... is 254 characters, over 253"
    )
