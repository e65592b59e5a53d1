"""``clusters/flux/<env>/``: a GitRepository and one Flux Kustomization per overlay.

Each environment's cluster runs Flux bootstrapped at its own ``clusters/flux/<env>`` path.
Model Kustomizations depend on the environment's ``_namespace`` one, so Flux applies the
Namespace, quota and default-deny policy first and waits until they are ready.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from generator.layout import namespace_dir, overlay_dir
from generator.load.platform import FLUX_NAMESPACE, Environment, Platform
from generator.render.labels import ENVIRONMENT_LABEL, MANAGED_BY

Object = dict[str, Any]

SOURCE_API = "source.toolkit.fluxcd.io/v1"
KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"

# Only what the overlays build from: a smaller artifact for every reconcile.
_SOURCE_IGNORE = "/*\n!/base/\n!/components/\n!/overlays/\n"


def source_name(env: Environment) -> str:
    return f"mlgitops-{env.name}"


def namespace_kustomization_name(env: Environment) -> str:
    """``<env>--namespace``: the same name Argo CD gives this overlay's Application."""
    return f"{env.name}--namespace"


def _metadata(env: Environment, name: str) -> Object:
    return {
        "name": name,
        "namespace": FLUX_NAMESPACE,
        "labels": {**MANAGED_BY, ENVIRONMENT_LABEL: env.name},
    }


def git_repository(platform: Platform, env: Environment) -> Object:
    return {
        "apiVersion": SOURCE_API,
        "kind": "GitRepository",
        "metadata": _metadata(env, source_name(env)),
        "spec": {
            "url": platform.repository_url,
            "ref": {"branch": platform.repository_branch},
            "interval": "1m",
            "ignore": _SOURCE_IGNORE,
        },
    }


def kustomization(env: Environment, name: str, path: str, depends_on: str | None) -> Object:
    """``wait``: ready only when every applied object is; the timeout bounds a bad rollout."""
    spec: Object = {
        "interval": "10m",
        "retryInterval": "1m",
        "timeout": "5m",
        "path": f"./{path}",
        "prune": env.sync.prune,
        "wait": True,
        "sourceRef": {"kind": "GitRepository", "name": source_name(env)},
    }
    if depends_on is not None:
        spec["dependsOn"] = [{"name": depends_on}]
    return {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "metadata": _metadata(env, name),
        "spec": spec,
    }


def render_flux(
    platform: Platform, env: Environment, models: Sequence[str]
) -> dict[str, tuple[Object, str | None]]:
    """File name -> (object, the model it exists for, if any)."""
    namespace_name = namespace_kustomization_name(env)
    files: dict[str, tuple[Object, str | None]] = {
        "gitrepository.yaml": (git_repository(platform, env), None),
        "namespace.yaml": (kustomization(env, namespace_name, namespace_dir(env.name), None), None),
    }
    for model in models:
        obj = kustomization(
            env, f"{env.name}-{model}", overlay_dir(env.name, model), namespace_name
        )
        files[f"model-{model}.yaml"] = (obj, model)
    listing = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(files),
    }
    files["kustomization.yaml"] = (listing, None)
    return files
