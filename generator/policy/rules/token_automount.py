"""Pods do not mount a service-account token.

A model server never talks to the Kubernetes API; a mounted token only helps an attacker who
got into the container. The pod's ``automountServiceAccountToken`` wins over its
ServiceAccount's; when the pod leaves it unset, the ServiceAccount (from the same overlay)
must set it to false.

PASS::

    spec:
      automountServiceAccountToken: false
      serviceAccountName: iris-classifier

FAIL::

    spec:
      serviceAccountName: default
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, name_of, objects_of_kind, pod_spec, violation
from generator.problems import Problem

ID = "MLG113"
SEVERITY = "error"
HINT = "set automountServiceAccountToken: false on the pod spec"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    mount = pod.spec.get("automountServiceAccountToken")
    if mount is None:
        account = pod.spec.get("serviceAccountName", "default")
        accounts = objects_of_kind(context.objects, "ServiceAccount")
        found = next((a for a in accounts if name_of(a) == account), None)
        mount = True if found is None else found.get("automountServiceAccountToken", True)
    if mount is not False:
        yield violation(
            f"{pod.path} mounts a service-account token",
            f"set {pod.path}.automountServiceAccountToken: false",
        )
