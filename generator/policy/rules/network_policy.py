"""A NetworkPolicy in the same overlay selects the workload's pods.

Pods no NetworkPolicy selects accept traffic from anywhere in the cluster. The generated
overlay carries a policy that admits only the serving port.

PASS::

    kind: NetworkPolicy
    spec:
      podSelector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}
      policyTypes: [Ingress]

FAIL::

    # no NetworkPolicy whose podSelector matches the Deployment's pod labels
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
    selects,
    violation,
)
from generator.problems import Problem

ID = "MLG112"
SEVERITY = "error"
HINT = "add a NetworkPolicy whose podSelector matches the pod labels (mlgitops renders one)"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    policies = list(objects_of_kind(context.objects, "NetworkPolicy"))
    for labels in pod_label_sets(obj, pod, context.objects):
        if not any(selects((p.get("spec") or {}).get("podSelector"), labels) for p in policies):
            yield violation("no NetworkPolicy selects its pods" + primary_note(labels, pod), HINT)
