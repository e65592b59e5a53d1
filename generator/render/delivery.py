"""What ``spec.rollout`` adds to an overlay: the controller's objects for a canary, and the
patches that make the model's other objects follow the workload."""

from __future__ import annotations

from typing import Any

from generator.render.rollout_argo import hpa_target_patch, render_argo
from generator.render.rollout_flagger import flagger_patches, render_flagger
from generator.resolve import Resolved
from generator.rollout import canary_controller

Object = dict[str, Any]


def controller(spec: Resolved) -> str | None:
    return canary_controller(spec.rollout, spec.environment.progressive_delivery)


def delivery_files(spec: Resolved) -> dict[str, Object]:
    """File name -> object, next to the overlay's kustomization.yaml."""
    match controller(spec):
        case "argo-rollouts":
            return render_argo(spec)
        case "flagger":
            return render_flagger(spec)
    return {}


def delivery_patches(spec: Resolved) -> list[Object]:
    match controller(spec):
        case "argo-rollouts":
            return [hpa_target_patch(spec)]
        case "flagger":
            return flagger_patches(spec)
    return []


def rolling_update(spec: Resolved) -> dict[str, Any]:
    """The Deployment's ``strategy``: surge as ``spec.rollout.maxSurge`` says; without surge,
    one pod at a time is replaced in place."""
    return {
        "type": "RollingUpdate",
        "rollingUpdate": {
            "maxSurge": spec.rollout.max_surge,
            "maxUnavailable": spec.rollout.max_unavailable,
        },
    }
