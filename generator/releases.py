"""Image digests pinned per environment in models/<name>/release.yaml (written by
``mlgitops build --push`` and ``mlgitops promote``), as the generator reads them."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from generator.layout import RepoLayout
from generator.modelspec import ModelSource
from generator.platform import Environment
from generator.problems import InputError, Problem
from generator.yamlsource import load_file


@cache
def _pins(path: Path, display: str) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        document = load_file(path, display)
    except InputError:
        return {}
    data = document.data
    environments = data.get("environments") if isinstance(data, dict) else None
    return environments if isinstance(environments, dict) else {}


def pinned_digest(layout: RepoLayout, model: str, env: str) -> str | None:
    path = layout.release_file(model)
    pin = _pins(path, layout.relative(path)).get(env)
    digest = pin.get("digest") if isinstance(pin, dict) else None
    return digest if isinstance(digest, str) and digest.startswith("sha256:") else None


def release_problems(
    layout: RepoLayout, model: ModelSource, env: Environment, digest: str | None
) -> Iterator[Problem]:
    if env.require_digest and digest is None:
        yield model.document.problem(
            ("metadata", "name"),
            f"environment {env.name!r} requires a pinned image digest and "
            f"{model.name} has none there",
            f"run 'mlgitops promote {model.name} --to {env.name}' (after 'mlgitops build "
            f"{model.name} --push' pinned the first environment)",
        )
