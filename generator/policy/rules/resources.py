"""Every container requests CPU and memory and has a memory limit.

Requests let the scheduler place pods and let the ResourceQuota count them; a memory limit
keeps one leaking model from starving its neighbours on the node (memory cannot be throttled,
only reclaimed by killing).

PASS::

    resources:
      requests: {cpu: 250m, memory: 256Mi}
      limits: {memory: 256Mi}

FAIL::

    resources:
      requests: {cpu: 250m}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG106"
SEVERITY = "error"
HINT = "set resources.requests.cpu, resources.requests.memory and resources.limits.memory"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in containers(pod, ("initContainers", "containers")):
        resources = container.data.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        missing = [f"requests.{key}" for key in ("cpu", "memory") if key not in requests]
        if "memory" not in limits:
            missing.append("limits.memory")
        if missing:
            yield violation(
                f"{container.path} has no resources.{', resources.'.join(missing)}",
                "set them in spec.resources of model.yaml (the memory limit equals the request)",
            )
