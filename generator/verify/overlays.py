"""Real kustomize builds of the rendered overlays, in a scratch folder; each built object
validated strictly and the policy run on each built overlay."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from generator.layout import (
    base_dir,
    generated_model_of,
    namespace_dir,
    overlay_dir,
    overlay_of,
)
from generator.load.yamlsource import PathKey, load_all_core
from generator.plan import Plan
from generator.policy import engine as policy
from generator.policy.engine import OverlayContext
from generator.problems import Problem
from generator.render.tree import RenderedFile
from generator.verify import kustomize
from generator.verify.fields import built_problems
from generator.verify.objects import built_object_errors, object_sort_key


def affected_overlays(plan: Plan) -> list[str]:
    """Every overlay of the models in focus; the namespace overlays only without a focus, since
    they are made from environments.yaml alone, and a change to it puts every model in focus."""
    assert plan.platform is not None
    directories = []
    if plan.focus is None:
        directories += [namespace_dir(env.name) for env in plan.platform.environments]
    directories += [
        overlay_dir(spec.environment.name, spec.model)
        for spec in plan.deployments
        if plan.in_focus(spec.model)
    ]
    return directories


def _needed(plan: Plan, path: str) -> bool:
    if plan.focus is None or not path.startswith(("base/", "overlays/")):
        return True
    return generated_model_of(path) in plan.focus


def materialize(files: Iterable[RenderedFile], directory: Path) -> None:
    """Write rendered files under ``directory`` (a scratch folder, never the repository)."""
    for file in files:
        target = directory / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.text, encoding="utf-8")


def focused_files(plan: Plan) -> list[tuple[str, str]]:
    """``(path, text)`` of every file the builds of ``plan`` read."""
    return [(f.path, f.text) for f in plan.files if _needed(plan, f.path)]


def verify_builds(plan: Plan, jobs: int | None = None) -> tuple[list[Problem], int]:
    """Build every affected overlay with real kustomize and validate each built object.

    Returns the problems and how many objects were built and validated.
    """
    assert plan.platform is not None
    version = plan.platform.kubernetes_version
    problems: list[Problem] = []
    count = 0
    with tempfile.TemporaryDirectory(prefix="mlgitops-verify-") as scratch:
        materialize((f for f in plan.files if _needed(plan, f.path)), Path(scratch))
        for result in kustomize.build_many(Path(scratch), affected_overlays(plan), jobs):
            where = f"{result.directory}/kustomization.yaml"
            if not result.ok:
                problems.append(Problem(where, 0, 0, f"kustomize build failed: {result.error}"))
                continue
            built = load_all_core(result.output)
            for obj in built:
                count += 1
                for message in built_object_errors(version, obj):
                    kind, name = object_sort_key(obj)
                    problems.append(Problem(where, 0, 0, f"built {kind} {name}: {message}"))
            problems += policy_problems(plan, result.directory, built)
            problems += built_problems(
                plan.files, plan.platform, plan.models, result.directory, built
            )
    return problems, count


def policy_problems(plan: Plan, directory: str, objects: list[dict[str, Any]]) -> list[Problem]:
    """Run the policy on one built overlay. Findings point at the input a person edits: the
    model's model.yaml (its waivers, where one applies) or the environment in environments.yaml.
    """
    assert plan.platform is not None
    spec = next(
        (d for d in plan.deployments if overlay_dir(d.environment.name, d.model) == directory),
        None,
    )
    env = (
        spec.environment
        if spec
        else next(
            (e for e in plan.platform.environments if namespace_dir(e.name) == directory), None
        )
    )
    overlay = overlay_of(f"{directory}/kustomization.yaml")
    context = OverlayContext(
        overlay="/".join(overlay) if overlay else directory,
        require_digest=env.require_digest if env else False,
    )
    findings = policy.check_objects(objects, context)
    model = next((m for m in plan.models if spec and m.name == spec.model), None)
    if model is None:
        where = (
            plan.platform.document.problem(("environments", env.index), "")
            if env
            else Problem(f"{directory}/kustomization.yaml", 0, 0, "")
        )
        return [replace(f, file=where.file, line=where.line, column=where.column) for f in findings]
    located = []
    waived_rules = [w.rule for w in model.waivers]
    for finding in policy.apply_waivers(findings, model.waivers):
        path: PathKey = ("spec",)
        if finding.rule in waived_rules:
            path = ("spec", "policy", "waivers", waived_rules.index(finding.rule), "rule")
        mark = model.document.mark(path, key=path == ("spec",))
        located.append(replace(finding, file=model.file, line=mark.line, column=mark.column))
    return located


def build_one(plan: Plan, model: str, env: str) -> kustomize.BuildResult:
    """The kustomize output of one overlay (``mlgitops render``)."""
    with tempfile.TemporaryDirectory(prefix="mlgitops-render-") as scratch:
        needed = (
            f
            for f in plan.files
            if not f.path.startswith(("base/", "overlays/"))
            or f.path.startswith((base_dir(model) + "/", overlay_dir(env, model) + "/"))
        )
        materialize(needed, Path(scratch))
        binary = kustomize.check_available()
        return kustomize.build(
            binary, Path(scratch) / overlay_dir(env, model), overlay_dir(env, model)
        )
