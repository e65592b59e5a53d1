"""Fault 11: replicas spread over nodes (hard) and zones (soft) by default, and each
environment may set its own spread and priority class; what Kubernetes would refuse is
refused at environments.yaml."""

from __future__ import annotations

import json
from pathlib import Path

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.verify.overlays import verify_builds
from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML
from tests.hardening.conftest import built, pod, repo

SELECTOR = {"matchLabels": {"app.kubernetes.io/name": "fraud"}}
PROD = '    quota: {cpu: "32", memory: 128Gi, gpus: 4, pods: 100}\n'


def _with_prod(lines: str) -> str:
    assert PROD in ENVIRONMENTS_YAML
    return ENVIRONMENTS_YAML.replace(PROD, PROD + lines)


def test_default_spread_is_hard_over_nodes_and_soft_over_zones(tmp_path: Path) -> None:
    spec = pod(built(repo(tmp_path, spec="scaling: {minReplicas: 3, maxReplicas: 6}"), "prod"))
    assert spec["topologySpreadConstraints"] == [
        {
            "labelSelector": SELECTOR,
            "matchLabelKeys": ["pod-template-hash"],
            "maxSkew": 1,
            "nodeTaintsPolicy": "Honor",
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
        },
        {
            "labelSelector": SELECTOR,
            "matchLabelKeys": ["pod-template-hash"],
            "maxSkew": 1,
            "nodeTaintsPolicy": "Honor",
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
        },
    ]
    assert "priorityClassName" not in spec


def test_an_environment_sets_its_own_spread_and_priority(tmp_path: Path) -> None:
    platform = _with_prod(
        "    placement:\n"
        "      priorityClassName: ml-serving\n"
        "      topologySpreadConstraints:\n"
        "        - {topologyKey: topology.kubernetes.io/zone, minDomains: 3}\n"
    )
    spec = pod(built(repo(tmp_path, platform=platform), "prod"))
    assert spec["priorityClassName"] == "ml-serving"
    assert spec["topologySpreadConstraints"] == [
        {
            "labelSelector": SELECTOR,
            "matchLabelKeys": ["pod-template-hash"],
            "maxSkew": 1,
            "minDomains": 3,
            "nodeTaintsPolicy": "Honor",
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule",
        }
    ]
    assert "priorityClassName" not in pod(built(repo(tmp_path / "b", platform=platform), "dev"))


def test_fields_newer_than_the_target_kubernetes_are_left_out(tmp_path: Path) -> None:
    platform = ENVIRONMENTS_YAML.replace('kubernetesVersion: "1.33"', 'kubernetesVersion: "1.25"')
    root = repo(tmp_path, platform=platform)
    (hostname, _) = pod(built(root, "prod"))["topologySpreadConstraints"]
    assert "matchLabelKeys" not in hostname and "nodeTaintsPolicy" not in hostname
    plan = make_plan(RepoLayout(root))
    assert verify_builds(plan)[0] == []  # strict 1.25 schemas accept the result


def test_relaxing_the_node_spread_warns_where_replicas_may_share_a_node(tmp_path: Path) -> None:
    platform = _with_prod(
        "    placement:\n"
        "      topologySpreadConstraints:\n"
        "        - {topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}\n"
    )
    outcome = run_cli("--format", "json", "validate", root=repo(tmp_path, platform=platform))
    assert outcome.exit_code == 0
    (warning,) = json.loads(outcome.stderr)
    assert (warning["rule"], warning["severity"]) == ("MLG134", "warning")
    assert warning["message"] == (
        "prod/fraud Deployment fraud: may run 2 replicas, and nothing keeps two of them off "
        "the same node"
    )


def test_a_topology_key_that_is_no_label_key_is_refused_at_it(tmp_path: Path) -> None:
    platform = _with_prod(
        "    placement:\n      topologySpreadConstraints:\n        - {topologyKey: 'bad key!'}\n"
    )
    outcome = run_cli("validate", root=repo(tmp_path, platform=platform))
    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines()[0] == (
        "environments.yaml:31:25: environments[1].placement.topologySpreadConstraints[0]"
        ".topologyKey: 'bad key!' is not valid"
    )


def test_duplicates_min_domains_and_system_classes_are_refused(tmp_path: Path) -> None:
    platform = _with_prod(
        "    placement:\n"
        "      priorityClassName: system-node-critical\n"
        "      topologySpreadConstraints:\n"
        "        - {topologyKey: kubernetes.io/hostname}\n"
        "        - {topologyKey: kubernetes.io/hostname, maxSkew: 2}\n"
        "        - {topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway,"
        " minDomains: 2}\n"
    )
    outcome = run_cli("validate", root=repo(tmp_path, platform=platform))
    assert outcome.exit_code == 1
    located = [line for line in outcome.stderr.splitlines() if not line.startswith("  hint")]
    assert located == [
        "environments.yaml:30:26: priorityClassName 'system-node-critical' is reserved for "
        "cluster components (the API server admits system- classes only in kube-system)",
        "environments.yaml:33:11: topologySpreadConstraints[1] repeats topologyKey "
        "'kubernetes.io/hostname' with whenUnsatisfiable DoNotSchedule; Kubernetes refuses "
        "duplicates",
        "environments.yaml:34:101: minDomains is only allowed with whenUnsatisfiable: "
        "DoNotSchedule",
    ]
