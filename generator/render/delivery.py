"""What ``spec.rollout`` adds to an overlay: the controller's objects for a canary, and the
patches that make the model's other objects follow the workload."""

from __future__ import annotations

from typing import Any

from generator.render.labels import selector
from generator.render.placement import POD_TEMPLATE_HASH
from generator.render.rollout_argo import POD_TEMPLATE_HASH as ROLLOUTS_POD_TEMPLATE_HASH
from generator.render.rollout_argo import hpa_target_patch, render_argo
from generator.render.rollout_flagger import both_pods, flagger_patches, render_flagger
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


def hash_label(spec: Resolved) -> str:
    """The pod label that tells one rollout's pods from another's: Argo Rollouts sets
    ``rollouts-pod-template-hash`` (and no ``pod-template-hash``) on the pods it runs; the
    Deployment controller (also under Flagger) sets ``pod-template-hash``."""
    if controller(spec) == "argo-rollouts":
        return ROLLOUTS_POD_TEMPLATE_HASH
    return POD_TEMPLATE_HASH


def pods_selector(spec: Resolved) -> Object:
    """A label selector for every pod of the model: under Flagger, the primary copy's pods too
    (Flagger labels them ``<model>-primary``)."""
    if controller(spec) == "flagger":
        return both_pods(spec)
    return {"matchLabels": selector(spec.model)}


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
