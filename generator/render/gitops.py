"""``clusters/``: the entry points of the GitOps controllers the platform asks for.

Argo CD and Flux both apply the per-environment overlays as they are; the files here only tell
each controller where the overlays are, in which order to apply them, and what they may touch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.load.platform import Platform
from generator.render.gitops_argocd import render_argocd
from generator.render.gitops_flux import render_flux

Object = dict[str, Any]

_KUSTOMIZE_KINDS = {"Kustomization", "Component"}


@dataclass(frozen=True)
class ClusterFile:
    """One file under ``clusters/``; ``models`` are the models it exists for (for its header)."""

    path: str
    obj: Object
    models: tuple[str, ...] = ()


def emitted_kinds(objects: Iterable[Any]) -> list[tuple[str, str]]:
    """(API group, kind) of every Kubernetes object among ``objects``, sorted and unique.

    The AppProject allows exactly these, so a kind the generator starts emitting is allowed
    the moment it is rendered, and nothing else ever is.
    """
    kinds = set()
    for obj in objects:
        if not isinstance(obj, Mapping) or "kind" not in obj or "apiVersion" not in obj:
            continue
        if obj["kind"] in _KUSTOMIZE_KINDS:
            # What a kustomization generates is applied too (the model's and Fluentd's
            # ConfigMaps come only from generators).
            if obj.get("configMapGenerator"):
                kinds.add(("", "ConfigMap"))
            continue
        group = str(obj["apiVersion"]).rpartition("/")[0]
        kinds.add((group, str(obj["kind"])))
    return sorted(kinds)


def render_clusters(
    platform: Platform,
    overlays: Mapping[str, Sequence[str]],
    kinds: Sequence[tuple[str, str]],
) -> list[ClusterFile]:
    """Every file under ``clusters/``. ``overlays``: environment name -> its model overlays."""
    files: list[ClusterFile] = []
    if platform.controller in ("argocd", "both"):
        files += [
            ClusterFile(f"clusters/argocd/{name}", obj)
            for name, obj in render_argocd(platform, kinds).items()
        ]
    if platform.controller in ("flux", "both"):
        for env in platform.environments:
            models = sorted(overlays.get(env.name, ()))
            for name, (obj, model) in render_flux(platform, env, models).items():
                files.append(
                    ClusterFile(f"clusters/flux/{env.name}/{name}", obj, (model,) if model else ())
                )
    return sorted(files, key=lambda f: f.path)
