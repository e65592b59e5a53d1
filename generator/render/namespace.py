"""``overlays/<env>/_namespace/``: what an environment's namespace holds before any model."""

from __future__ import annotations

from typing import Any

from generator.load.platform import Environment, Platform
from generator.render.labels import ENVIRONMENT_LABEL, MANAGED_BY
from generator.render.network import namespace_policies

Object = dict[str, Any]


def _metadata(env: Environment, name: str) -> Object:
    return {"name": name, "labels": {**MANAGED_BY, ENVIRONMENT_LABEL: env.name}}


def namespace(env: Environment, platform: Platform) -> Object:
    version = f"v{platform.kubernetes_version}"
    labels = {**MANAGED_BY, ENVIRONMENT_LABEL: env.name}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = "restricted"
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": env.namespace, "labels": labels},
    }


def resource_quota(env: Environment) -> Object:
    gpu_resource = env.gpu_pool.resource_name if env.gpu_pool else "nvidia.com/gpu"
    hard = {
        "requests.cpu": env.quota.cpu,
        "requests.memory": env.quota.memory,
        f"requests.{gpu_resource}": str(env.quota.gpus),
        "pods": str(env.quota.pods),
    }
    if env.quota.ephemeral_storage:
        hard["requests.ephemeral-storage"] = env.quota.ephemeral_storage
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _metadata(env, "mlgitops-quota"),
        "spec": {"hard": hard},
    }


def limit_range() -> Object:
    """Defaults for containers that arrive without requests (debug pods, third-party jobs)."""
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "mlgitops-defaults", "labels": dict(MANAGED_BY)},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {
                        "cpu": "100m",
                        "memory": "128Mi",
                        "ephemeral-storage": "128Mi",
                    },
                    "default": {"memory": "256Mi", "ephemeral-storage": "1Gi"},
                }
            ]
        },
    }


def render_namespace(env: Environment, platform: Platform) -> dict[str, Object]:
    files: dict[str, Object] = {
        "namespace.yaml": namespace(env, platform),
        "resourcequota.yaml": resource_quota(env),
        "limitrange.yaml": limit_range(),
        **namespace_policies(env),
    }
    files["kustomization.yaml"] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": env.namespace,
        "resources": sorted(files),
    }
    return files
