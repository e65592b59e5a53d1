"""Resolved specs for the renderers, from small inputs read by the real loader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.layout import RepoLayout
from generator.load.platform import Platform
from generator.load.repository import load_inputs
from generator.resolve import Resolved, resolve, resolve_base
from tests.generator.conftest import build_repo, model_yaml


@dataclass(frozen=True)
class Specs:
    platform: Platform
    base: Resolved
    deployments: dict[str, Resolved]
    """Environment name -> the model resolved for it."""


SpecsFactory = Callable[..., Specs]


@pytest.fixture
def specs(tmp_path: Path) -> SpecsFactory:
    """``specs(spec="...")``: the test repository's platform (dev, prod) and one model
    ``fraud`` whose spec has the extra lines given, loaded and resolved as the pipeline does."""

    def make(**model: str) -> Specs:
        root = build_repo(tmp_path / "repo", {"models/fraud/model.yaml": model_yaml(**model)})
        inputs = load_inputs(RepoLayout(root))
        assert inputs.platform is not None and not inputs.problems, inputs.problems
        [source] = inputs.models
        platform = inputs.platform
        return Specs(
            platform,
            resolve_base(source, platform),
            {env.name: resolve(source, env, platform, None) for env in platform.environments},
        )

    return make
