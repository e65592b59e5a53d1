"""Containers drop all Linux capabilities.

Pod Security Standards (restricted) require ``capabilities.drop`` to contain ``ALL`` and allow
adding back only ``NET_BIND_SERVICE``. A model server needs none of them.

PASS::

    securityContext:
      capabilities: {drop: [ALL]}

FAIL::

    securityContext:
      capabilities: {drop: [NET_RAW], add: [SYS_ADMIN]}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG103"
SEVERITY = "error"
HINT = "set securityContext.capabilities: {drop: [ALL]} and add nothing but NET_BIND_SERVICE"
ALLOWED_ADD = frozenset({"NET_BIND_SERVICE"})


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in containers(pod):
        capabilities = container.security("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield violation(
                f"{container.path} does not drop ALL capabilities",
                f"set {container.path}.securityContext.capabilities.drop: [ALL]",
            )
        added = sorted(set(capabilities.get("add") or []) - ALLOWED_ADD)
        if added:
            yield violation(
                f"{container.path} adds capabilities {', '.join(added)}",
                "remove them from capabilities.add; only NET_BIND_SERVICE is allowed",
            )
