"""The fields delivery needs, taken from the generator's own loader.

Builds and promotions go through the same schema validation and defaults as ``validate``, so a
model that would not generate is not built either; this module only narrows the typed specs
down to what an image build or a promotion reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.check.semantic import folder_name_problems
from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.platform import Platform
from generator.load.repository import load_model as load_model_source
from generator.load.repository import load_platform as load_platform_source
from generator.problems import InputError, Problem
from generator.resolve import is_enabled, merged_tunables


@dataclass(frozen=True)
class ModelInput:
    name: str
    version: str
    artifact: Path
    artifact_display: str
    artifact_sha256: str
    source: str
    sha256_mark: tuple[int, int]
    """Line and column of spec.artifact.sha256, where a hash mismatch is reported."""
    spec: ModelSource
    """The whole model.yaml, for the artifact's files (generator.artifacts)."""
    gpu_environments: tuple[str, ...] = ()
    """Environments that run the model on a GPU: it then needs an image on the GPU runtime."""


@dataclass(frozen=True)
class PlatformInput:
    registry: str
    repository_url: str
    environments: tuple[str, ...]


def load_platform(root: Path) -> PlatformInput:
    platform, problems = load_platform_source(RepoLayout(root))
    if platform is None:
        raise InputError(problems)
    return PlatformInput(
        platform.registry, platform.repository_url, tuple(platform.environment_names)
    )


def model_names(root: Path) -> list[str]:
    return RepoLayout(root).model_names()


def load_model(root: Path, name: str) -> ModelInput:
    return load_models(root, [name])[0]


def load_models(root: Path, names: Sequence[str]) -> list[ModelInput]:
    """The named models, with the platform read once for all of them."""
    layout = RepoLayout(root)
    platform, problems = load_platform_source(layout)
    if platform is None:
        raise InputError(problems)
    return [_load_model(layout, platform, name) for name in names]


def _load_model(layout: RepoLayout, platform: Platform, name: str) -> ModelInput:
    if name not in layout.model_names():
        display = layout.relative(layout.model_file(name))
        known = ", ".join(layout.model_names()) or "none"
        raise InputError([Problem(display, 0, 0, f"no model named {name!r} (known: {known})")])
    model, problems = load_model_source(layout, name)
    if model is None:
        raise InputError(problems)
    mismatch = list(folder_name_problems(model))
    if mismatch:
        raise InputError(mismatch)
    gpu_environments = tuple(
        env.name
        for env in platform.environments
        if is_enabled(model, env) and merged_tunables(model, env)["accelerator"] == "gpu"
    )
    mark = model.document.mark(("spec", "artifact", "sha256"))
    return ModelInput(
        name=name,
        version=model.version,
        artifact=layout.model_dir(name) / model.artifact_path,
        artifact_display=layout.relative(layout.model_dir(name) / model.artifact_path),
        artifact_sha256=model.artifact_sha256,
        source=model.file,
        sha256_mark=(mark.line, mark.column),
        gpu_environments=gpu_environments,
        spec=model,
    )
