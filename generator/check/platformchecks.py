"""Checks of environments.yaml that a JSON Schema cannot express, for what the platform adds
to every pod: sidecar images, placement and network peers. Each problem names its field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from generator.check.networkchecks import label_key_problem
from generator.load.platform import Environment, Platform
from generator.problems import Problem

DIGEST_MARK = "@sha256:"


def check_platform_images(
    platform: Platform, env: Environment, fluentd: Mapping[str, Any]
) -> Iterator[Problem]:
    """Where an environment requires digests, the images the platform adds (the Fluentd
    sidecar) are pinned too: MLG109 holds the model image, this the platform's own."""
    if not env.require_digest or not fluentd.get("enabled"):
        return
    image = str(fluentd.get("image") or "")
    path: tuple[str | int, ...] = ("environments", env.index, "logging", "fluentd")
    if env.fluentd is not None and DIGEST_MARK not in env.fluentd.image:
        shown = env.fluentd.image
        yield platform.document.problem(
            (*path, "image") if image else path,
            f"environment {env.name!r} sets requireDigest: true, but its Fluentd image "
            f"{shown!r} is a tag, which can be pushed again",
            f"pin it: image: {shown}@sha256:<digest> (the digest your registry shows for "
            f"that tag, e.g. docker buildx imagetools inspect {shown})",
        )


def check_placement(platform: Platform, env: Environment) -> Iterator[Problem]:
    """What the API server would refuse in ``placement`` (validation of PodSpec): a duplicate
    (topologyKey, whenUnsatisfiable) pair, minDomains without DoNotSchedule, and the reserved
    ``system-`` priority classes, which admission allows only in kube-system."""
    raw = platform.document.data["environments"][env.index].get("placement") or {}
    path: tuple[str | int, ...] = ("environments", env.index, "placement")
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(raw.get("topologySpreadConstraints") or []):
        where = (*path, "topologySpreadConstraints", index)
        pair = (item.get("topologyKey", ""), item.get("whenUnsatisfiable", "DoNotSchedule"))
        if pair in seen:
            yield platform.document.problem(
                where,
                f"topologySpreadConstraints[{index}] repeats topologyKey {pair[0]!r} with "
                f"whenUnsatisfiable {pair[1]}; Kubernetes refuses duplicates",
                "keep one constraint per topologyKey and whenUnsatisfiable",
            )
        seen.add(pair)
        problem = label_key_problem(pair[0])
        if problem:
            yield platform.document.problem((*where, "topologyKey"), problem, "shorten the prefix")
        if "minDomains" in item and pair[1] != "DoNotSchedule":
            yield platform.document.problem(
                (*where, "minDomains"),
                "minDomains is only allowed with whenUnsatisfiable: DoNotSchedule",
                "remove minDomains, or set whenUnsatisfiable: DoNotSchedule",
            )
    name = raw.get("priorityClassName")
    if isinstance(name, str) and name.startswith("system-"):
        yield platform.document.problem(
            (*path, "priorityClassName"),
            f"priorityClassName {name!r} is reserved for cluster components (the API server "
            "admits system- classes only in kube-system)",
            "create a PriorityClass for model serving, such as ml-serving, and name it here",
        )
