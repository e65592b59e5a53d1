"""Pods stay out of the node: no host namespaces, privileged containers, host ports or hostPath.

These are the Baseline Pod Security Standard's hard lines: each one gives a container a way
to see or change the node and every other pod on it.

PASS::

    spec:
      containers:
        - name: server
          ports: [{containerPort: 8080}]

FAIL::

    spec:
      hostNetwork: true
      containers:
        - name: server
          securityContext: {privileged: true}
          ports: [{containerPort: 8080, hostPort: 8080}]
      volumes:
        - {name: host, hostPath: {path: /var/run}}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG114"
SEVERITY = "error"
HINT = "remove hostNetwork, hostPID, hostIPC, privileged, hostPort and hostPath volumes"
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for field in HOST_NAMESPACES:
        if pod.spec.get(field) is True:
            yield violation(f"{pod.path}.{field} is true", f"remove {pod.path}.{field}")
    for volume in pod.spec.get("volumes") or []:
        if "hostPath" in volume:
            yield violation(
                f"{pod.path}.volumes[{volume.get('name', '?')}] is a hostPath volume",
                "use an emptyDir, configMap, secret or persistentVolumeClaim volume instead",
            )
    for container in containers(pod):
        if container.security("privileged") is True:
            yield violation(
                f"{container.path} is privileged",
                f"remove {container.path}.securityContext.privileged",
            )
        for port in container.data.get("ports") or []:
            if port.get("hostPort"):
                yield violation(
                    f"{container.path} binds hostPort {port['hostPort']}",
                    "remove hostPort; reach the pod through its Service",
                )
