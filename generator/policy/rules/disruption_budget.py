"""Workloads with more than one replica have a PodDisruptionBudget.

Without one, a node drain may evict every replica at once, and "highly available" means
nothing during cluster upgrades. The minimum replica count comes from the
HorizontalPodAutoscaler that scales the workload, or else from ``spec.replicas``.

PASS::

    kind: HorizontalPodAutoscaler
    spec: {minReplicas: 2, scaleTargetRef: {kind: Deployment, name: iris-classifier}}
    ---
    kind: PodDisruptionBudget
    spec: {maxUnavailable: 1, selector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}}

FAIL::

    kind: HorizontalPodAutoscaler
    spec: {minReplicas: 2, scaleTargetRef: {kind: Deployment, name: iris-classifier}}
    # and no PodDisruptionBudget selects the pods
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import (
    Object,
    objects_of_kind,
    pod_label_sets,
    pod_spec,
    primary_note,
    replica_bound,
    selects,
    violation,
)
from generator.problems import Problem

ID = "MLG110"
SEVERITY = "warning"
HINT = "add a PodDisruptionBudget (maxUnavailable: 1) whose selector matches the pod labels"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None or obj.get("kind") not in ("Deployment", "StatefulSet", "Rollout"):
        return
    replicas = replica_bound(obj, context.objects, "minReplicas")
    if replicas <= 1:
        return
    budgets = list(objects_of_kind(context.objects, "PodDisruptionBudget"))
    for labels in pod_label_sets(obj, pod, context.objects):
        if not any(selects((b.get("spec") or {}).get("selector"), labels) for b in budgets):
            yield violation(
                f"runs at least {replicas} replicas but no PodDisruptionBudget selects its pods"
                + primary_note(labels, pod),
                HINT,
            )
