"""Replicas of a workload that runs more than one may not share a node.

Two replicas on one node fail together when it drains or dies. A workload whose autoscaler
may run more than one replica needs a topology spread on ``kubernetes.io/hostname`` with
``whenUnsatisfiable: DoNotSchedule`` (or a required pod anti-affinity on hostnames) over its
own pods. mlgitops renders one by default; an environment that relaxes it (``placement`` in
environments.yaml) gets this warning.

PASS::

    spec:
      topologySpreadConstraints:
      - {topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, maxSkew: 1,
         labelSelector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}}
      containers: [{name: server, image: registry.example.com/ml/iris-classifier:1.0.0}]

FAIL::

    spec:
      topologySpreadConstraints:
      - {topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, maxSkew: 1,
         labelSelector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}}
      containers: [{name: server, image: registry.example.com/ml/iris-classifier:1.0.0}]
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import (
    Object,
    pod_label_sets,
    pod_spec,
    primary_note,
    replica_bound,
    selects,
    violation,
)
from generator.problems import Problem

ID = "MLG134"
SEVERITY = "warning"
HINT = (
    "spread replicas over nodes: placement.topologySpreadConstraints in environments.yaml with "
    "topologyKey: kubernetes.io/hostname and whenUnsatisfiable: DoNotSchedule (the default)"
)
HOSTNAME = "kubernetes.io/hostname"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None or obj.get("kind") not in ("Deployment", "StatefulSet"):
        return
    replicas = replica_bound(obj, context.objects, "maxReplicas")
    if replicas <= 1:
        return
    anti_affinity = ((pod.spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or []
    for labels in pod_label_sets(obj, pod, context.objects):
        spread = any(
            c.get("topologyKey") == HOSTNAME
            and c.get("whenUnsatisfiable") == "DoNotSchedule"
            and selects(c.get("labelSelector"), labels)
            for c in pod.spec.get("topologySpreadConstraints") or []
        )
        apart = any(
            t.get("topologyKey") == HOSTNAME and selects(t.get("labelSelector"), labels)
            for t in anti_affinity
        )
        if not (spread or apart):
            yield violation(
                f"may run {replicas} replicas, and nothing keeps two of them off the same "
                f"node{primary_note(labels, pod)}",
                HINT,
            )
