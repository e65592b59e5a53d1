"""Pods use the RuntimeDefault (or a Localhost) seccomp profile.

Pod Security Standards (restricted) require ``seccompProfile.type`` RuntimeDefault or Localhost
on the pod or on every container, and no container may set Unconfined: seccomp blocks the
system calls most container escapes use.

PASS::

    spec:
      securityContext:
        seccompProfile: {type: RuntimeDefault}

FAIL::

    spec:
      securityContext:
        seccompProfile: {type: Unconfined}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG104"
SEVERITY = "error"
HINT = "set securityContext.seccompProfile.type: RuntimeDefault on the pod"
ALLOWED = ("RuntimeDefault", "Localhost")


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    pod_profile = ((pod.spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    if pod_profile is not None and pod_profile not in ALLOWED:
        yield violation(
            f"{pod.path}.securityContext sets seccomp profile {pod_profile}",
            f"set {pod.path}.securityContext.seccompProfile.type: RuntimeDefault",
        )
    for container in containers(pod):
        profile = (container.security("seccompProfile") or {}).get("type") or pod_profile
        if profile not in ALLOWED:
            shown = "no seccomp profile" if profile is None else f"seccomp profile {profile}"
            yield violation(
                f"{container.path} runs with {shown}",
                f"set {pod.path}.securityContext.seccompProfile.type: RuntimeDefault",
            )
