"""The orchestration: load, check, resolve and render into a ``Plan``; the CLI then has it
verified (``generator.verify``) and written (``generator.write``).

Each stage is a package or module of its own and returns plain data; this module only calls
them in order. Only ``write`` touches the repository, and the CLI alone decides exit codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from generator.check.quota import check_quota
from generator.check.releases import load_release, release_problems
from generator.check.semantic import check_model, check_platform
from generator.check.values import check_model_inputs, check_platform_values
from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.release import Release
from generator.load.repository import load_inputs
from generator.plan import Plan
from generator.policy.engine import rule_ids
from generator.problems import Problem
from generator.render.tree import render_tree
from generator.resolve import is_enabled, resolve, resolve_base
from generator.verify.fields import rendered_problems
from generator.verify.names import duplicate_problems
from generator.verify.overlays import focused_files, verify_builds

__all__ = ["FocusedBuilds", "Plan", "make_plan", "start_focused_builds"]


def _duplicate_names(models: Sequence[ModelSource]) -> Iterable[Problem]:
    seen: dict[str, ModelSource] = {}
    for model in models:
        if model.name in seen:
            yield model.document.problem(
                ("metadata", "name"),
                f"model name {model.name!r} is also used by {seen[model.name].file}",
                "model names must be unique",
            )
        seen.setdefault(model.name, model)


def _artifact_size(layout: RepoLayout, model: ModelSource) -> int | None:
    artifact = layout.model_dir(model.folder) / model.artifact_path
    return artifact.stat().st_size if artifact.is_file() else None


def make_plan(
    layout: RepoLayout, focus: set[str] | None = None, *, focus_only: bool = False
) -> Plan:
    """Load, check, resolve and render. ``focus``: models whose files changed (None: all);
    the others are still loaded, since quotas are sums over every model. ``focus_only``: read
    only the models in focus and skip the quotas; the files of those models come out exactly
    as in the full plan, for a head start on building them (`start_focused_builds`)."""
    inputs = load_inputs(layout, only=focus if focus_only and focus is not None else None)
    plan = Plan(layout, inputs.platform, inputs.models, problems=list(inputs.problems), focus=focus)
    platform = inputs.platform
    if platform is None:
        return plan
    plan.problems += check_platform(platform)
    plan.problems += check_platform_values(platform)
    plan.problems += _duplicate_names(inputs.models)
    known_rules = rule_ids()
    for model in inputs.models:
        if plan.in_focus(model.name):
            plan.problems += check_model(layout, model, platform, known_rules)
            plan.problems += check_model_inputs(model, platform, _artifact_size(layout, model))
    if not plan.ok:
        return plan
    for model in inputs.models:
        plan.bases[model.name] = resolve_base(model, platform)
        # Outside the focus a model only counts towards the quotas, which pins do not change.
        focused = plan.in_focus(model.name)
        release, problems = (
            load_release(layout, model.name) if focused else (Release(model.name), [])
        )
        plan.problems += problems
        for env in platform.environments:
            if is_enabled(model, env):
                pin = release.pin(env.name)
                deployment = resolve(model, env, platform, pin)
                plan.deployments.append(deployment)
                if focused:
                    plan.problems += release_problems(model, env, pin, deployment.accelerator)
    if not focus_only:
        for env in platform.environments:
            specs = [d for d in plan.deployments if d.environment.name == env.name]
            plan.problems += check_quota(platform, env, specs)
    if plan.ok:
        # With a focus, only the changed models are rendered: the others were resolved above
        # for the quota sums, and their files are not checked (nor written) in this run.
        models = [m for m in inputs.models if plan.in_focus(m.name)]
        deployments = [d for d in plan.deployments if plan.in_focus(d.model)]
        plan.files = render_tree(platform, models, plan.bases, deployments)
        # The net under the input checks: any rendered field the API server would refuse,
        # and any object two inputs would both write.
        plan.problems += rendered_problems(plan.files, platform, inputs.models)
        if not focus_only:
            plan.problems += duplicate_problems(
                plan.files, platform, inputs.models, plan.deployments
            )
    return plan


@dataclass
class FocusedBuilds:
    """Builds of the focused models' overlays, started before the full plan exists."""

    early: Plan
    builds: Future[tuple[list[Problem], int]]

    def result_for(self, plan: Plan) -> tuple[list[Problem], int] | None:
        """The builds' result if ``plan`` renders the very files that were built, else None."""
        outcome = self.builds.result()
        return outcome if focused_files(self.early) == focused_files(plan) else None


def start_focused_builds(layout: RepoLayout, focus: set[str]) -> FocusedBuilds | None:
    """Start building the changed models' overlays while the other models are still being
    read (for quotas): the overlays depend on their own model's files alone, and kustomize
    runs as separate processes, on the cores the reading leaves idle. None when the changed
    models do not even render on their own; the full plan then reports why."""
    early = make_plan(layout, focus, focus_only=True)
    if not early.ok or not early.files:
        return None
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlgitops-build")
    builds = executor.submit(verify_builds, early)
    executor.shutdown(wait=False)
    return FocusedBuilds(early, builds)
