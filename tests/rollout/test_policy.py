"""The policy rules follow the workload kinds a canary brings: a Deployment scaled through an
Argo Rollout's ``workloadRef``, the primary copy Flagger makes of a Deployment, and a Rollout
that carries its own pod template."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from generator.policy.engine import OverlayContext, check_objects
from tests.conftest import run_cli
from tests.generator.conftest import RepoFactory
from tests.rollout.test_render import CANARY_MODEL, _built, _platform

Objects = list[dict[str, Any]]


def _overlay(make_repo: RepoFactory, controller: str) -> Objects:
    model = CANARY_MODEL.replace(
        "  rollout:", "  scaling: {minReplicas: 2, maxReplicas: 4}\n  rollout:"
    )
    root = make_repo({"environments.yaml": _platform(controller), "models/fraud/model.yaml": model})
    assert run_cli("generate", root=root).exit_code == 0
    return list(_built(root, "overlays/prod/fraud").values())


def _findings(objects: Objects, rule: str) -> list[str]:
    context = OverlayContext("prod/fraud")
    return [p.message for p in check_objects(objects, context) if p.rule == rule]


def _without(objects: Objects, kind: str, name: str) -> Objects:
    return [o for o in objects if (o["kind"], o["metadata"]["name"]) != (kind, name)]


@pytest.mark.parametrize("controller", ["argo-rollouts", "flagger"])
def test_the_rendered_canary_overlays_pass_every_rule(
    make_repo: RepoFactory, controller: str
) -> None:
    objects = _overlay(make_repo, controller)

    assert [
        p.message
        for p in check_objects(objects, OverlayContext("prod/fraud"))
        if p.severity.value == "error"
    ] == []
    assert _findings(objects, "MLG110") == []
    assert _findings(objects, "MLG112") == []


def test_a_deployment_scaled_through_a_rollout_still_needs_its_pdb(make_repo: RepoFactory) -> None:
    """The HPA names the Rollout, not the Deployment: its minReplicas 2 must still count."""
    objects = _without(_overlay(make_repo, "argo-rollouts"), "PodDisruptionBudget", "fraud")

    findings = _findings(objects, "MLG110")

    assert len(findings) == 1
    assert "runs at least 2 replicas but no PodDisruptionBudget selects its pods" in findings[0]


def test_flaggers_primary_pods_need_their_pdb_and_network_policy(make_repo: RepoFactory) -> None:
    objects = _without(_overlay(make_repo, "flagger"), "PodDisruptionBudget", "fraud-primary")
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy")
    policy["spec"]["podSelector"] = {"matchLabels": {"app.kubernetes.io/name": "fraud"}}

    pdb = _findings(objects, "MLG110")
    network = _findings(objects, "MLG112")

    assert len(pdb) == 1 and len(network) == 1
    assert "as Flagger's primary copy runs them" in pdb[0]
    assert "'app.kubernetes.io/name': 'fraud-primary'" in network[0]


def test_the_replica_spread_follows_the_rollout_and_flaggers_primary(
    make_repo: RepoFactory,
) -> None:
    """MLG134 reads maxReplicas from the HPA that scales the Rollout, and wants the primary
    copy's pods spread too."""
    argo = _overlay(make_repo, "argo-rollouts")
    argo_pod = next(o for o in argo if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    argo_pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] = "ScheduleAnyway"
    flagger = _overlay(make_repo, "flagger")
    pod = next(o for o in flagger if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    for constraint in pod["topologySpreadConstraints"]:
        constraint["labelSelector"] = {"matchLabels": {"app.kubernetes.io/name": "fraud"}}

    argo_findings = _findings(argo, "MLG134")
    flagger_findings = _findings(flagger, "MLG134")

    assert len(argo_findings) == 1
    assert (
        "may run 4 replicas, and nothing keeps two of them off the same node" in (argo_findings[0])
    )
    assert len(flagger_findings) == 1
    assert "as Flagger's primary copy runs them" in flagger_findings[0]


def test_a_rollout_with_its_own_template_is_checked_like_a_deployment(
    make_repo: RepoFactory,
) -> None:
    objects = _overlay(make_repo, "argo-rollouts")
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    rollout = next(o for o in objects if o["kind"] == "Rollout")
    del rollout["spec"]["workloadRef"]
    rollout["spec"]["template"] = copy.deepcopy(deployment["spec"]["template"])
    rollout["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "allowPrivilegeEscalation"
    ] = True

    findings = [
        p for p in check_objects(objects, OverlayContext("prod/fraud")) if p.rule == "MLG102"
    ]

    assert len(findings) == 1
    assert findings[0].message == (
        "prod/fraud Rollout fraud: spec.template.spec.containers[server]"
        ".securityContext.allowPrivilegeEscalation is not false"
    )
