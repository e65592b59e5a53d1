"""Containers that serve a port have readiness and liveness probes.

Without a readiness probe the Service sends requests to a replica that is still loading its
model; without a liveness probe a wedged server is never restarted. Containers without ports
(sidecars such as Fluentd) receive no traffic and are exempt.

PASS::

    containers:
      - name: server
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /v2/health/ready, port: http}}
        livenessProbe: {httpGet: {path: /v2/health/live, port: http}}

FAIL::

    containers:
      - name: server
        ports: [{name: http, containerPort: 8080}]
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG107"
SEVERITY = "error"
HINT = (
    "add readinessProbe and livenessProbe "
    "(the model server answers /v2/health/ready and /v2/health/live)"
)


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in containers(pod, ("containers",)):
        if not container.data.get("ports"):
            continue
        for probe in ("readinessProbe", "livenessProbe"):
            if not container.data.get(probe):
                yield violation(f"{container.path} has no {probe}", f"add {probe} to it")
