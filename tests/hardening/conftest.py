"""Small repositories (the test platform of tests/generator plus edits) built with the real
pipeline and kustomize, for the production-hardening faults of issue 13."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.layout import RepoLayout
from generator.load.yamlsource import load_all_core
from generator.pipeline import make_plan
from generator.verify.overlays import build_one
from tests.generator.conftest import ENVIRONMENTS_YAML, build_repo, model_yaml

Objects = list[dict[str, Any]]


def repo(tmp_path: Path, *, platform: str = ENVIRONMENTS_YAML, spec: str = "") -> Path:
    """The test platform (or ``platform``) and one model ``fraud`` with ``spec`` lines."""
    return build_repo(
        tmp_path / "repo",
        {"environments.yaml": platform, "models/fraud/model.yaml": model_yaml(spec=spec)},
    )


def built(root: Path, env: str, model: str = "fraud") -> Objects:
    """Every object of ``overlays/<env>/<model>`` as real kustomize builds it."""
    plan = make_plan(RepoLayout(root))
    assert plan.ok, [p.message for p in plan.problems]
    result = build_one(plan, model, env)
    assert result.ok, result.error
    return list(load_all_core(result.output))


def kind(objects: Objects, wanted: str, name: str | None = None) -> dict[str, Any]:
    return next(
        o
        for o in objects
        if o["kind"] == wanted and (name is None or o["metadata"]["name"].startswith(name))
    )


def pod(objects: Objects) -> dict[str, Any]:
    spec: dict[str, Any] = kind(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(objects: Objects, name: str) -> dict[str, Any]:
    return next(c for c in pod(objects)["containers"] if c["name"] == name)
