"""Containers run as a non-root user.

Pod Security Standards (restricted) require ``runAsNonRoot: true`` on the pod or on every
container, and forbid ``runAsUser: 0``: a process that is root inside the container is one
kernel bug away from root on the node.

PASS::

    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - name: server

FAIL::

    spec:
      containers:
        - name: server
          securityContext: {runAsUser: 0}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG101"
SEVERITY = "error"
HINT = "set securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    pod_security = pod.spec.get("securityContext") or {}
    for container in containers(pod):
        non_root = container.security("runAsNonRoot")
        if non_root is None:
            non_root = pod_security.get("runAsNonRoot")
        if non_root is not True:
            yield violation(
                f"{container.path} may run as root (runAsNonRoot is not true)",
                f"set {pod.path}.securityContext.runAsNonRoot: true",
            )
        user = container.security("runAsUser")
        if user is None:
            user = pod_security.get("runAsUser")
        if user == 0:
            yield violation(
                f"{container.path} runs as user 0 (root)",
                "set runAsUser to a non-zero user id, such as 10001",
            )
