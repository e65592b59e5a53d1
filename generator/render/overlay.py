"""``overlays/<env>/<model>/kustomization.yaml``: only what differs from the base."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from generator.layout import base_dir, component_dir
from generator.load.release import image_tag
from generator.render.base import (
    config_literals,
    network_policy,
    scaling_fields,
    server_config,
    server_resources,
)
from generator.render.components import CPU_POOL, FLUENTD, GPU_POOL, cpu_pool_needed
from generator.render.dashboard import render_dashboard
from generator.render.delivery import (
    delivery_files,
    delivery_patches,
    hash_label,
    pods_selector,
    rolling_update,
)
from generator.render.fluentd import fluentd_config_owner
from generator.render.labels import ENVIRONMENT_LABEL, SERVER_CONTAINER, config_map_name
from generator.render.monitoring import render_monitoring
from generator.render.placement import pod_placement
from generator.resolve import Resolved
from generator.yamlout import dump

Object = dict[str, Any]


def _up(path: str) -> str:
    return "../../../" + path


def _deployment_patch(spec: Resolved, base: Resolved) -> Object:
    strategy = rolling_update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": spec.model},
        "spec": {
            **({"strategy": strategy} if strategy != rolling_update(base) else {}),
            "template": {
                "spec": {
                    **pod_placement(
                        spec.model,
                        spec.environment.placement,
                        hash_label(spec),
                        pods_selector(spec),
                    ),
                    "containers": [{"name": SERVER_CONTAINER, "resources": server_resources(spec)}],
                }
            },
        },
    }


def _hpa_patch(spec: Resolved) -> Object:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": spec.model},
        "spec": scaling_fields(spec),
    }


def components_for(spec: Resolved) -> list[str]:
    env = spec.environment
    names = []
    if spec.accelerator == "gpu":
        names.append(GPU_POOL)
    elif cpu_pool_needed(env):
        names.append(CPU_POOL)
    if spec.fluentd:
        names.append(FLUENTD)
    return [_up(component_dir(env.name, name)) for name in names]


def monitoring_files(spec: Resolved) -> dict[str, Object]:
    """Objects kept next to the overlay's kustomization.yaml: observability, where the
    environment turns monitoring on, and a canary's controller objects (the base stays free
    of environment choices)."""
    return render_monitoring(spec) | render_dashboard(spec) | delivery_files(spec)


def render_overlay(spec: Resolved, base: Resolved, local_files: Sequence[str]) -> Object:
    """The overlay of ``spec`` over the base rendered from ``base``; ``local_files`` are the
    files next to it that it lists as resources (`monitoring_files`)."""
    kustomization: Object = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": spec.environment.namespace,
        "resources": [_up(base_dir(spec.model)), *local_files],
    }
    components = components_for(spec)
    if components:
        kustomization["components"] = components
    kustomization["labels"] = [
        {
            "pairs": {ENVIRONMENT_LABEL: spec.environment.name},
            "includeSelectors": False,
            "includeTemplates": True,
        }
    ]
    if spec.digest:
        image: Object = {"name": spec.image}
        if spec.pinned_image and spec.pinned_image != spec.image:
            image["newName"] = spec.pinned_image
        kustomization["images"] = [image | {"digest": spec.digest}]
    elif spec.accelerator == "gpu":
        kustomization["images"] = [
            {"name": spec.image, "newTag": image_tag(spec.version, spec.accelerator)}
        ]
    base_config, env_config = server_config(base), server_config(spec)
    changed = {k: v for k, v in env_config.items() if base_config.get(k) != v}
    # A merge cannot delete a key: one the environment drops is set empty (the server's unset).
    changed.update({k: "" for k in base_config if k not in env_config})
    generators: list[Object] = []
    if changed:
        generators.append(
            {
                "name": config_map_name(spec.model),
                "behavior": "merge",
                "literals": config_literals(changed),
            }
        )
    if spec.fluentd:
        generators.append(fluentd_config_owner(spec.model))
    if generators:
        kustomization["configMapGenerator"] = generators
    kustomization["patches"] = [
        {"patch": dump(_deployment_patch(spec, base))},
        {"patch": dump(_hpa_patch(spec))},
        *({"patch": dump(patch)} for patch in delivery_patches(spec)),
    ]
    policy_patch = network_policy_patch(spec, base)
    if policy_patch:
        kustomization["patches"].append({"patch": dump(policy_patch)})
    return kustomization


def network_policy_patch(spec: Resolved, base: Resolved) -> Object | None:
    """The environment's callers and scrapers, where they differ from the base's (its own
    namespace); ``ingress`` has no merge key, so the patch replaces the whole list."""
    ingress = network_policy(spec)["spec"]["ingress"]
    if ingress == network_policy(base)["spec"]["ingress"]:
        return None
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": spec.model},
        "spec": {"ingress": ingress},
    }
