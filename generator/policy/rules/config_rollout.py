"""Every ConfigMap a pod reads is generated in the same overlay, named by its content hash.

A pod reads its ConfigMaps once, at start (environment variables), or keeps the copy it
started with in mind (Fluentd reads its configuration file once). A ConfigMap changed in place,
or applied by another Application than the pod's, never reaches running pods, and new pods may
start before it changes. Kustomize's generators name each ConfigMap by a hash of its content
(``name-<10 characters>``) and rewrite the pod's references, so a change is a new pod template:
a rolling update, in the same sync. Secrets referenced from outside the repository are exempt
(their values never enter it; restart the Deployment when one rotates).

PASS::

    kind: Deployment
    spec:
      template:
        metadata: {labels: {app.kubernetes.io/name: iris-classifier}}
        spec:
          containers:
          - name: server
            envFrom: [{configMapRef: {name: iris-classifier-config-g5t2m8k6hd}}]
    ---
    kind: ConfigMap
    metadata: {name: iris-classifier-config-g5t2m8k6hd}

FAIL::

    envFrom: [{configMapRef: {name: mlgitops-fluentd}}]   # in _namespace, no hash
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import (
    Object,
    containers,
    name_of,
    objects_of_kind,
    pod_spec,
    violation,
)
from generator.problems import Problem

ID = "MLG135"
SEVERITY = "error"
HINT = "generate the ConfigMap in the pod's own overlay (configMapGenerator), as mlgitops does"
# kustomize's hash suffix: ten hex digits with 0, 1, 3, a, e replaced by g, h, k, m, t
# (api/hasher: encodeHash), so it never spells words.
_HASHED = re.compile(r"-[245-9bcdfghkmt]{10}$")


def _referenced(pod_spec_data: dict[str, object], pod: object) -> Iterator[tuple[str, str]]:
    for volume in pod_spec_data.get("volumes") or []:  # type: ignore[attr-defined]
        name = ((volume or {}).get("configMap") or {}).get("name")
        if name:
            yield f"volumes[{volume.get('name')}]", name
        for source in ((volume or {}).get("projected") or {}).get("sources") or []:
            name = ((source or {}).get("configMap") or {}).get("name")
            if name:
                yield f"volumes[{volume.get('name')}]", name


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    here = {name_of(c) for c in objects_of_kind(context.objects, "ConfigMap")}
    references = [(f"{pod.path}.{where}", name) for where, name in _referenced(dict(pod.spec), pod)]
    for container in containers(pod):
        for source in container.data.get("envFrom") or []:
            name = ((source or {}).get("configMapRef") or {}).get("name")
            if name:
                references.append((f"{container.path}.envFrom", name))
        for item in container.data.get("env") or []:
            name = (((item or {}).get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name")
            if name:
                references.append((f"{container.path}.env[{item.get('name')}]", name))
    for where, name in references:
        if name not in here:
            yield violation(
                f"{where} reads ConfigMap {name!r}, which this overlay does not generate: "
                "a change to it does not roll the pods",
                HINT,
            )
        elif not _HASHED.search(name):
            yield violation(
                f"{where} reads ConfigMap {name!r}, whose name carries no content hash: "
                "a change to it does not roll the pods",
                HINT,
            )
