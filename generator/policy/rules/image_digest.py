"""Every container image is pinned by digest where the environment sets ``requireDigest: true``.

A tag can be pushed again; a digest cannot. Environments that demand reproducible
deployments (usually prod) set requireDigest: the release workflow pins each model's digest
in ``models/<name>/release.yaml``, and the platform pins the images it adds to every pod (the
Fluentd sidecar) in environments.yaml as ``name:tag@sha256:<digest>``. Any container left on a
tag (initContainers and sidecars included) would let a re-pushed tag change what runs.

PASS (environment with requireDigest: true)::

    image: registry.example.com/ml/iris-classifier@sha256:4f1c...
    image: fluent/fluentd:v1.17-1@sha256:9a3b...

FAIL (environment with requireDigest: true)::

    image: registry.example.com/ml/iris-classifier:1.0.0
    image: fluent/fluentd:v1.17-1
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
        image = str(container.data.get("image", ""))
        if "@sha256:" in image:
            continue
        hint = HINT
        if container.data.get("name") != SERVER_CONTAINER:
            hint = (
                f"pin it where it is set, as {image}@sha256:<digest> (the Fluentd sidecar: "
                "logging.fluentd.image in environments.yaml); the registry shows the digest"
            )
        yield violation(
            f"{container.path} image {image!r} is not pinned by digest, "
            "and this environment sets requireDigest: true",
            hint,
        )
