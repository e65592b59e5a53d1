"""Fixtures shared by the monitoring tests: the example repository's resolved deployments."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.resolve import Resolved

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def deployments() -> dict[str, Resolved]:
    """``<env>/<model>`` -> the model as resolved in that environment."""
    plan = make_plan(RepoLayout(PROJECT))
    assert plan.ok, plan.problems
    return {f"{d.environment.name}/{d.model}": d for d in plan.deployments}
