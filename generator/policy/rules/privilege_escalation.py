"""Containers forbid privilege escalation.

Pod Security Standards (restricted) require ``allowPrivilegeEscalation: false`` on every
container, so setuid binaries cannot gain more privileges than the process started with.

PASS::

    containers:
      - name: server
        securityContext: {allowPrivilegeEscalation: false}

FAIL::

    containers:
      - name: server
        securityContext: {}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG102"
SEVERITY = "error"
HINT = "set securityContext.allowPrivilegeEscalation: false on every container"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in containers(pod):
        if container.security("allowPrivilegeEscalation") is not False:
            yield violation(
                f"{container.path}.securityContext.allowPrivilegeEscalation is not false",
                f"set {container.path}.securityContext.allowPrivilegeEscalation: false",
            )
