"""Assemble every rendered object into the generated file tree (path -> text), in memory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.layout import (
    GENERATED_HEADER_PREFIX,
    base_dir,
    component_dir,
    namespace_dir,
    overlay_dir,
)
from generator.load.modelspec import ModelSource
from generator.load.platform import Platform
from generator.render.base import render_base
from generator.render.components import render_components
from generator.render.gitops import emitted_kinds, render_clusters
from generator.render.namespace import render_namespace
from generator.render.overlay import monitoring_files, render_overlay
from generator.resolve import Resolved
from generator.yamlout import dump

ENVIRONMENTS_FILE = "environments.yaml"


@dataclass(frozen=True)
class RenderedFile:
    path: str
    text: str
    obj: Any
    sources: tuple[str, ...]


def header(sources: Sequence[str]) -> str:
    return (
        f"{GENERATED_HEADER_PREFIX} from {' and '.join(sources)}; do not edit, "
        "change the source and run 'mlgitops generate'.\n"
    )


def _file(path: str, obj: Any, sources: Sequence[str]) -> RenderedFile:
    """A YAML file from an object; a string is written as it is (configuration files that a
    generator reads, such as fluent.conf, whose comments start with # as YAML's do)."""
    body = obj if isinstance(obj, str) else dump(obj)
    return RenderedFile(path, header(sources) + body, obj, tuple(sources))


def _folder(directory: str, files: Mapping[str, Any], sources: Sequence[str]) -> list[RenderedFile]:
    return [_file(f"{directory}/{name}", obj, sources) for name, obj in sorted(files.items())]


def render_tree(
    platform: Platform,
    models: Sequence[ModelSource],
    bases: Mapping[str, Resolved],
    deployments: Sequence[Resolved],
) -> list[RenderedFile]:
    """Every generated file, in a stable order. Pure: no disk, clock or environment."""
    files: list[RenderedFile] = []
    for env in platform.environments:
        files += _folder(
            namespace_dir(env.name), render_namespace(env, platform), [ENVIRONMENTS_FILE]
        )
        for name, component in sorted(render_components(env).items()):
            files += _folder(component_dir(env.name, name), component, [ENVIRONMENTS_FILE])
    for model in models:
        files += _folder(base_dir(model.name), render_base(bases[model.name]), [model.file])
    for spec in deployments:
        monitoring = monitoring_files(spec)
        overlay = render_overlay(spec, bases[spec.model], sorted(monitoring))
        files.append(
            _file(
                f"{overlay_dir(spec.environment.name, spec.model)}/kustomization.yaml",
                overlay,
                [spec.source_file, ENVIRONMENTS_FILE],
            )
        )
        files += _folder(
            overlay_dir(spec.environment.name, spec.model),
            monitoring,
            [spec.source_file, ENVIRONMENTS_FILE],
        )
    files += _clusters(platform, models, deployments, [f.obj for f in files])
    return sorted(files, key=lambda f: f.path)


def _clusters(
    platform: Platform,
    models: Sequence[ModelSource],
    deployments: Sequence[Resolved],
    rendered: Sequence[Any],
) -> list[RenderedFile]:
    overlays: dict[str, list[str]] = {}
    for spec in deployments:
        overlays.setdefault(spec.environment.name, []).append(spec.model)
    model_files = {model.name: model.file for model in models}
    return [
        _file(file.path, file.obj, [*(model_files[m] for m in file.models), ENVIRONMENTS_FILE])
        for file in render_clusters(platform, overlays, emitted_kinds(rendered))
    ]
