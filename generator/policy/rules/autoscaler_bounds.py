"""HorizontalPodAutoscalers have minReplicas ≤ maxReplicas.

The API server accepts min > max, and the autoscaler then silently pins the workload at max.

PASS::

    kind: HorizontalPodAutoscaler
    spec: {minReplicas: 2, maxReplicas: 4}

FAIL::

    kind: HorizontalPodAutoscaler
    spec: {minReplicas: 5, maxReplicas: 4}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, violation
from generator.problems import Problem

ID = "MLG111"
SEVERITY = "error"
HINT = "make spec.scaling.minReplicas <= spec.scaling.maxReplicas in model.yaml"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    if obj.get("kind") != "HorizontalPodAutoscaler":
        return
    spec = obj.get("spec") or {}
    low, high = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 0))
    if low > high:
        yield violation(f"minReplicas {low} is greater than maxReplicas {high}", HINT)
