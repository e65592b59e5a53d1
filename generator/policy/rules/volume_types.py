"""Pods use only the volume types the restricted Pod Security Standard allows.

Allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected,
secret. Other types reach into the node or into storage the cluster admin did not vet.
hostPath is reported by MLG114.

PASS::

    volumes:
      - {name: tmp, emptyDir: {}}

FAIL::

    volumes:
      - {name: data, nfs: {server: nfs.example.com, path: /models}}
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, pod_spec, violation
from generator.problems import Problem

ID = "MLG105"
SEVERITY = "error"
HINT = (
    "use configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, "
    "projected or secret volumes"
)
ALLOWED = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for volume in pod.spec.get("volumes") or []:
        kinds = sorted(set(volume) - {"name"} - ALLOWED - {"hostPath"})
        for kind in kinds:
            yield violation(
                f"{pod.path}.volumes[{volume.get('name', '?')}] is a {kind} volume, "
                "which the restricted Pod Security Standard forbids",
                HINT,
            )
