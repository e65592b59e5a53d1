"""Per-environment Kustomize Components: node pools and the Fluentd sidecar.

A component patches whichever Deployment the including overlay holds (``target: kind``), so one
copy per environment serves every model instead of a patch repeated in each overlay.
"""

from __future__ import annotations

from typing import Any

from generator.load.platform import Environment, NodePool
from generator.render.fluentd import (
    FLUENT_CONF,
    fluent_conf,
    fluentd_config_generator,
    fluentd_patch,
)
from generator.render.labels import SERVER_CONTAINER

Object = dict[str, Any]
CPU_POOL = "cpu-pool"
GPU_POOL = "gpu-pool"
FLUENTD = "fluentd"
CUDA_PROVIDERS = "CUDAExecutionProvider,CPUExecutionProvider"


def _pool_patch(pool: NodePool, extra_container: Object | None) -> Object:
    pod: Object = {}
    if pool.node_selector:
        pod["nodeSelector"] = dict(pool.node_selector)
    if pool.tolerations:
        pod["tolerations"] = [dict(t) for t in pool.tolerations]
    if extra_container:
        pod["containers"] = [extra_container]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "model"},
        "spec": {"template": {"spec": pod}},
    }


def _component(generator: Object | None = None) -> Object:
    component: Object = {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
    }
    if generator:
        component["configMapGenerator"] = [generator]
    component["patches"] = [{"target": {"kind": "Deployment"}, "path": "patch.yaml"}]
    return component


def cpu_pool_needed(env: Environment) -> bool:
    return bool(env.cpu_pool.node_selector or env.cpu_pool.tolerations)


def render_components(env: Environment) -> dict[str, dict[str, Any]]:
    """Component name -> (file name -> object, or text for fluent.conf) for one environment."""
    patches: dict[str, Object] = {}
    if cpu_pool_needed(env):
        patches[CPU_POOL] = _pool_patch(env.cpu_pool, None)
    if env.gpu_pool is not None:
        cuda = {
            "name": SERVER_CONTAINER,
            "env": [{"name": "ORT_PROVIDERS", "value": CUDA_PROVIDERS}],
        }
        patches[GPU_POOL] = _pool_patch(env.gpu_pool, cuda)
    if env.fluentd is not None:
        patches[FLUENTD] = fluentd_patch(env)
    components: dict[str, dict[str, Any]] = {
        name: {"kustomization.yaml": _component(), "patch.yaml": patch}
        for name, patch in patches.items()
    }
    if env.fluentd is not None:
        components[FLUENTD] |= {
            "kustomization.yaml": _component(fluentd_config_generator()),
            FLUENT_CONF: fluent_conf(env),
        }
    return components
