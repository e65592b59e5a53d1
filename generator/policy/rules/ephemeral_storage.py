"""A container that writes an emptyDir bounds its ephemeral storage, and the emptyDir its size.

Disk-backed emptyDirs, container logs and writable layers share the node's disk. Without a
``sizeLimit`` an emptyDir can fill it; without an ``ephemeral-storage`` request the scheduler
places the pod on a node without room, and without a limit the kubelet evicts neighbours first.
The container's limit must cover the size limits of every emptyDir it mounts writable, or the
kubelet evicts the pod before the volumes are even full.

PASS::

    spec:
      containers:
      - name: server
        resources: {requests: {ephemeral-storage: 320Mi}, limits: {ephemeral-storage: 320Mi}}
        volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {sizeLimit: 256Mi}}]

FAIL::

    spec:
      containers:
      - name: server
        resources: {limits: {memory: 256Mi}}
        volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}]
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem
from generator.quantities import format_bytes, memory_bytes

ID = "MLG133"
SEVERITY = "error"
HINT = (
    "give each emptyDir a sizeLimit and each container that writes one requests and limits "
    "of ephemeral-storage covering them (mlgitops renders both from one table)"
)


def _bytes(text: object) -> int | None:
    try:
        return memory_bytes(str(text))
    except ValueError:
        return None


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    empty_dirs = {
        v.get("name"): v["emptyDir"] or {}
        for v in pod.spec.get("volumes") or []
        if isinstance(v, dict) and "emptyDir" in v
    }
    for name, volume in empty_dirs.items():
        if volume.get("medium") != "Memory" and "sizeLimit" not in volume:
            yield violation(f"{pod.path}.volumes[{name}] is an emptyDir without sizeLimit", HINT)
    for container in containers(pod, ("initContainers", "containers")):
        written = [
            empty_dirs[m.get("name")]
            for m in container.data.get("volumeMounts") or []
            if m.get("name") in empty_dirs and not m.get("readOnly")
        ]
        disk = [v for v in written if v.get("medium") != "Memory"]
        if not disk:
            continue
        resources = container.data.get("resources") or {}
        request = _bytes((resources.get("requests") or {}).get("ephemeral-storage"))
        limit = _bytes((resources.get("limits") or {}).get("ephemeral-storage"))
        needed = sum(_bytes(v.get("sizeLimit")) or 0 for v in disk)
        if request is None or limit is None:
            yield violation(
                f"{container.path} writes emptyDirs but has no ephemeral-storage "
                f"{'request' if request is None else 'limit'}",
                HINT,
            )
        elif limit < needed:
            yield violation(
                f"{container.path} ephemeral-storage limit {format_bytes(limit)} is below the "
                f"size limits of the emptyDirs it writes ({format_bytes(needed)})",
                HINT,
            )
