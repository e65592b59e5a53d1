"""The built overlay of one model in one environment, with the environment's namespace objects
(the Fluentd ConfigMap lives there), through the generator's own plan and real kustomize."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from generator.errors import UsageError
from generator.layout import RepoLayout, base_dir, namespace_dir, overlay_dir
from generator.load.yamlsource import load_all_core
from generator.pipeline import make_plan
from generator.plan import Plan
from generator.problems import InputError, Problem
from generator.verify import kustomize
from generator.verify.overlays import materialize


def plan_for(layout: RepoLayout, model: str, env: str) -> Plan:
    """The checked plan; raises InputError (invalid inputs) or UsageError."""
    plan = make_plan(layout, {model})
    if not plan.ok:
        raise InputError(plan.problems)
    assert plan.platform is not None
    known = {m.name for m in plan.models}
    if model not in known:
        raise UsageError(f"unknown model {model!r}; known: {', '.join(sorted(known))}")
    if plan.platform.environment(env) is None:
        names = ", ".join(plan.platform.environment_names)
        raise UsageError(f"unknown environment {env!r}; known: {names}")
    if not any(d.model == model and d.environment.name == env for d in plan.deployments):
        raise UsageError(f"{model} is disabled in {env} (spec.environments.{env}.enabled)")
    return plan


def built_objects(plan: Plan, model: str, env: str) -> list[dict[str, Any]]:
    """Objects of ``overlays/<env>/<model>`` and ``overlays/<env>/_namespace``, as kustomize
    builds them. Raises InputError when a build fails and KustomizeMissing."""
    wanted = (base_dir(model) + "/", overlay_dir(env, model) + "/", namespace_dir(env) + "/")
    binary = kustomize.check_available()
    objects: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mlgitops-up-") as scratch:
        files = (
            f
            for f in plan.files
            if not f.path.startswith(("base/", "overlays/")) or f.path.startswith(wanted)
        )
        materialize(files, Path(scratch))
        for directory in (overlay_dir(env, model), namespace_dir(env)):
            if not (Path(scratch) / directory).is_dir():
                continue
            result = kustomize.build(binary, Path(scratch) / directory, directory)
            if not result.ok:
                where = f"{directory}/kustomization.yaml"
                raise InputError([Problem(where, 0, 0, f"kustomize build failed: {result.error}")])
            objects += load_all_core(result.output)
    return objects
