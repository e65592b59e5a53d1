"""Model images are pinned by digest where the environment sets ``requireDigest: true``.

A tag can be pushed again; a digest cannot. Environments that demand reproducible
deployments (usually prod) set requireDigest, and the release workflow pins each model's
digest in ``models/<name>/release.yaml``. The rule covers the model server container, the
image mlgitops builds and pins; sidecar images (Fluentd) are platform settings, pinned in
environments.yaml by tag or by digest as the platform team chooses.

PASS (environment with requireDigest: true)::

    image: registry.example.com/ml/iris-classifier@sha256:4f1c...

FAIL (environment with requireDigest: true)::

    image: registry.example.com/ml/iris-classifier:1.0.0
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem
from generator.render.labels import SERVER_CONTAINER

ID = "MLG109"
SEVERITY = "error"
HINT = "build and push the image, then pin its digest (mlgitops build / the release workflow)"


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None or not context.require_digest:
        return
    for container in containers(pod):
        if container.data.get("name") != SERVER_CONTAINER:
            continue
        image = str(container.data.get("image", ""))
        if "@sha256:" not in image:
            yield violation(
                f"{container.path} image {image!r} is not pinned by digest, "
                "and this environment sets requireDigest: true",
                HINT,
            )
