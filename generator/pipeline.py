"""The stages in order: load, check, resolve, render (in memory), verify.

Each function returns plain data; only ``write`` touches the repository, and the CLI alone
decides exit codes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator import crdschema, kubeschema, kustomize
from generator.apicheck import built_problems, rendered_problems
from generator.apinames import duplicate_problems
from generator.delivery.release import Release
from generator.inputvalues import check_model_inputs, check_platform_values
from generator.layout import RepoLayout, base_dir, namespace_dir, overlay_dir
from generator.modelspec import ModelSource
from generator.platform import Platform
from generator.policy import engine as policy
from generator.policy.engine import OverlayContext
from generator.problems import Problem
from generator.quota import check_quota
from generator.releases import load_release, release_problems
from generator.render.tree import RenderedFile, render_tree
from generator.repository import load_inputs
from generator.resolve import Resolved, is_enabled, resolve, resolve_base
from generator.semantic import check_model, check_platform
from generator.yamlsource import PathKey, load_all_core


@dataclass
class Plan:
    """Everything a run decided, before anything is verified or written."""

    layout: RepoLayout
    platform: Platform | None
    models: list[ModelSource] = field(default_factory=list)
    bases: dict[str, Resolved] = field(default_factory=dict)
    deployments: list[Resolved] = field(default_factory=list)
    files: list[RenderedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    focus: set[str] | None = None

    @property
    def ok(self) -> bool:
        return not any(p.severity.value == "error" for p in self.problems)

    def in_focus(self, model: str) -> bool:
        return self.focus is None or model in self.focus


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
    for model in inputs.models:
        if plan.in_focus(model.name):
            plan.problems += check_model(layout, model, platform)
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


def _object_sort_key(obj: dict[str, object]) -> tuple[str, str]:
    metadata = obj.get("metadata")
    name = metadata.get("name", "") if isinstance(metadata, dict) else ""
    return (str(obj.get("kind")), str(name))


def verify_objects(plan: Plan) -> list[Problem]:
    """Strict Kubernetes schema validation of every complete object rendered in memory;
    Argo CD and Flux objects against the vendored CRD schemas."""
    assert plan.platform is not None
    version = plan.platform.kubernetes_version
    problems = []
    for file in plan.files:
        obj = file.obj
        if isinstance(obj, dict) and crdschema.is_custom_resource(obj):
            for message in crdschema.object_errors(obj):
                problems.append(Problem(file.path, 0, 0, f"{obj['kind']}: {message}"))
            continue
        if (
            not isinstance(obj, dict)
            or "metadata" not in obj
            or obj.get("kind")
            in (
                "Kustomization",
                "Component",
            )
        ):
            continue
        if file.path.startswith("components/"):
            continue
        if file.path.startswith("base/") and not plan.in_focus(file.path.split("/")[1]):
            continue
        for message in kubeschema.object_errors(version, obj):
            problems.append(Problem(file.path, 0, 0, f"{obj['kind']}: {message}"))
    return problems


def built_object_errors(version: str, obj: dict[str, Any]) -> list[str]:
    """Kubernetes schemas for built-in kinds, vendored CRD schemas for custom resources
    (the overlays' ServiceMonitors and PrometheusRules)."""
    if crdschema.is_custom_resource(obj):
        return crdschema.object_errors(obj)
    return kubeschema.object_errors(version, obj)


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
    parts = path.split("/")
    model = parts[1] if parts[0] == "base" else parts[2]
    return model in plan.focus


def materialize(files: Iterable[RenderedFile], directory: Path) -> None:
    for file in files:
        target = directory / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.text, encoding="utf-8")


def _focused_files(plan: Plan) -> list[tuple[str, str]]:
    return [(f.path, f.text) for f in plan.files if _needed(plan, f.path)]


@dataclass
class FocusedBuilds:
    """Builds of the focused models' overlays, started before the full plan exists."""

    early: Plan
    builds: Future[tuple[list[Problem], int]]

    def result_for(self, plan: Plan) -> tuple[list[Problem], int] | None:
        """The builds' result if ``plan`` renders the very files that were built, else None."""
        outcome = self.builds.result()
        return outcome if _focused_files(self.early) == _focused_files(plan) else None


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
                    kind, name = _object_sort_key(obj)
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
    context = OverlayContext(
        overlay=directory.removeprefix("overlays/"),
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
