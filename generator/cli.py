"""The ``mlgitops`` command line. Click only parses; ``execute_*`` functions do the work and
return an exit code, so each can be tested without a terminal."""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from generator.changes import GitError, models_in_focus
from generator.delivery.commands import build_command, promote_command, rollback_command
from generator.diff.command import diff
from generator.kustomize import KustomizeMissing
from generator.layout import RepoLayout
from generator.pipeline import (
    Plan,
    build_one,
    make_plan,
    start_focused_builds,
    verify_builds,
    verify_objects,
)
from generator.policy.command import policy
from generator.problems import Problem, render_report
from generator.scaffold import init
from generator.schemadoc import schema
from generator.write import (
    Changes,
    WriteError,
    apply_changes,
    compare,
    recover,
    repository_lock,
)

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "github")


@dataclass(frozen=True)
class Options:
    root: Path
    output_format: str
    quiet: bool

    @property
    def layout(self) -> RepoLayout:
        return RepoLayout(self.root)


def report(options: Options, problems: list[Problem]) -> None:
    if problems:
        click.echo(render_report(problems, options.output_format), err=True)


def say(options: Options, message: str) -> None:
    if not options.quiet and options.output_format != "json":
        click.echo(message)


def _usage_error(message: str) -> int:
    click.echo(f"error: {message}", err=True)
    return EXIT_USAGE


def _verified_plan(options: Options, focus: set[str] | None, build: bool) -> tuple[Plan, int]:
    head_start = start_focused_builds(options.layout, focus) if build and focus else None
    plan = make_plan(options.layout, focus)
    built = 0
    if plan.ok:
        plan.problems += verify_objects(plan)
    if plan.ok and build:
        outcome = head_start.result_for(plan) if head_start is not None else None
        problems, built = outcome if outcome is not None else verify_builds(plan)
        plan.problems += problems
    return plan, built


def execute_validate(options: Options, changed_since: str | None, build: bool) -> int:
    try:
        focus = models_in_focus(options.root, changed_since) if changed_since else None
        plan, built = _verified_plan(options, focus, build)
    except GitError as error:
        return _usage_error(f"--changed-since {changed_since}: {error}")
    except KustomizeMissing as error:
        return _usage_error(str(error))
    report(options, plan.problems)
    if not plan.ok:
        return EXIT_INVALID
    checked = len(plan.models) if focus is None else len(focus & {m.name for m in plan.models})
    say(
        options,
        f"ok: {checked} model(s) checked, {len(plan.files)} files rendered"
        + (f", {built} built objects valid" if build else ""),
    )
    return EXIT_OK


def execute_generate(options: Options, check: bool, build: bool) -> int:
    try:
        with repository_lock(options.root):
            if not check:
                recover(options.root)
            plan, _ = _verified_plan(options, None, build)
            report(options, plan.problems)
            if not plan.ok:
                return EXIT_INVALID
            changes = compare(options.root, plan.files)
            if changes.foreign:
                report(options, changes.foreign)
                return EXIT_INVALID
            if check:
                return _report_drift(options, changes)
            apply_changes(options.root, changes)
    except KustomizeMissing as error:
        return _usage_error(str(error))
    except WriteError as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_INVALID
    total = len(changes.added) + len(changes.changed) + len(changes.removed)
    say(
        options,
        f"generated {len(plan.files)} files: {len(changes.added)} added, "
        f"{len(changes.changed)} changed, {len(changes.removed)} removed"
        + ("" if total else " (up to date)"),
    )
    return EXIT_OK


def _report_drift(options: Options, changes: Changes) -> int:
    if changes.empty:
        say(options, "ok: the generated tree is up to date")
        return EXIT_OK
    problems = [
        Problem(path, 0, 0, message, "run 'mlgitops generate' and commit the result")
        for message, paths in (
            ("would be created (missing from the tree)", changes.added),
            ("differs from what the inputs generate (stale or edited by hand)", changes.changed),
            ("is no longer generated and would be deleted", changes.removed),
        )
        for path in paths
    ]
    report(options, problems)
    return EXIT_INVALID


def execute_render(options: Options, model: str, env: str) -> int:
    try:
        plan = make_plan(options.layout, {model})
        known_models = {m.name for m in plan.models}
        if plan.ok and model not in known_models:
            return _usage_error(
                f"unknown model {model!r}; known: {', '.join(sorted(known_models))}"
            )
        if plan.ok and plan.platform is not None and plan.platform.environment(env) is None:
            names = ", ".join(plan.platform.environment_names)
            return _usage_error(f"unknown environment {env!r}; known: {names}")
        if plan.ok and not any(
            d.model == model and d.environment.name == env for d in plan.deployments
        ):
            return _usage_error(f"{model} is disabled in {env} (spec.environments.{env}.enabled)")
        if not plan.ok:
            report(options, plan.problems)
            return EXIT_INVALID
        result = build_one(plan, model, env)
    except KustomizeMissing as error:
        return _usage_error(str(error))
    if not result.ok:
        click.echo(f"error: kustomize build failed: {result.error}", err=True)
        return EXIT_INVALID
    click.echo(result.output, nl=False)
    return EXIT_OK


def _default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def _tune_garbage_collector() -> None:
    """A run builds large graphs of small objects (parsed YAML with positions, rendered
    manifests) that reference counting alone frees, then exits. With the collector's default
    thresholds, a third of a 1,000-model validate went to walking them again and again."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Repository root (holds environments.yaml and models/).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default=None,
    help="How problems are printed (default: github under GitHub Actions, else text).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print problems only.")
@click.version_option(package_name="mlgitops")
@click.pass_context
def main(ctx: click.Context, root: Path, output_format: str | None, quiet: bool) -> None:
    """Generate and validate GitOps manifests for ML model serving."""
    _tune_garbage_collector()
    if not root.is_dir():
        raise click.BadParameter(f"{root} is not a directory", param_hint="--root")
    ctx.obj = Options(root.resolve(), output_format or _default_format(), quiet)


@main.command()
@click.option("--changed-since", metavar="REF", help="Check only models changed since git REF.")
@click.option(
    "--skip-build",
    is_flag=True,
    help="Do not run kustomize on the overlays (schema, semantics and rendered objects only).",
)
@click.pass_obj
def validate(options: Options, changed_since: str | None, skip_build: bool) -> None:
    """Check every input and every rendered and built object; exit 1 listing all problems."""
    sys.exit(execute_validate(options, changed_since, not skip_build))


@main.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing files that differ.")
@click.option("--skip-build", is_flag=True, help="Do not verify overlays with kustomize.")
@click.pass_obj
def generate(options: Options, check: bool, skip_build: bool) -> None:
    """Validate, then write base/, components/, overlays/ and clusters/ atomically."""
    sys.exit(execute_generate(options, check, not skip_build))


@main.command()
@click.argument("model")
@click.option("--env", "env", required=True, help="Environment name from environments.yaml.")
@click.pass_obj
def render(options: Options, model: str, env: str) -> None:
    """Print the fully built manifests of one overlay (kustomize output)."""
    sys.exit(execute_render(options, model, env))


main.add_command(diff)
main.add_command(policy)
main.add_command(init)
main.add_command(schema)
main.add_command(build_command)
main.add_command(promote_command)
main.add_command(rollback_command)
