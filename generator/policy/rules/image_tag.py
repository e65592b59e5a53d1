"""Images name a fixed version: no ``latest`` tag and no untagged image.

``latest`` (written or implied by leaving the tag out) moves under you: two replicas of the
same Deployment can run different code, and a rollback rolls back nothing. A digest pin
(``@sha256:...``) always passes.

PASS::

    image: registry.example.com/ml/iris-classifier:1.0.0

FAIL::

    image: registry.example.com/ml/iris-classifier:latest
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, containers, pod_spec, violation
from generator.problems import Problem

ID = "MLG108"
SEVERITY = "error"
HINT = "use a version tag (name:1.2.0) or a digest (name@sha256:...)"


def image_tag(image: str) -> str | None:
    """The tag of an image reference; None when it has none (a registry port is no tag)."""
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    for container in containers(pod):
        image = str(container.data.get("image", ""))
        if "@" in image:
            continue
        tag = image_tag(image)
        if tag is None:
            yield violation(f"{container.path} image {image!r} has no tag (means latest)", HINT)
        elif tag == "latest":
            yield violation(f"{container.path} image {image!r} uses the latest tag", HINT)
