"""The example repository's plan, rendered once: the clusters/ objects under test come from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.plan import Plan

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def plan() -> Plan:
    result = make_plan(RepoLayout(REPO_ROOT))
    assert result.ok, [str(p) for p in result.problems]
    return result


@pytest.fixture(scope="session")
def clusters(plan: Plan) -> dict[str, Any]:
    """path -> object of every rendered file under clusters/."""
    return {f.path: f.obj for f in plan.files if f.path.startswith("clusters/")}
