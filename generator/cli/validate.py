"""``mlgitops validate``: every input, every rendered and every built object; nothing written."""

from __future__ import annotations

import sys

import click

from generator.cli.options import Options
from generator.errors import ExitCode, MlgitopsError
from generator.git import GitError, changed_paths
from generator.layout import RepoLayout, models_in_focus
from generator.pipeline import make_plan, start_focused_builds
from generator.plan import Plan
from generator.verify.objects import verify_objects
from generator.verify.overlays import verify_builds


def verified_plan(layout: RepoLayout, focus: set[str] | None, build: bool) -> tuple[Plan, int]:
    """The plan with the verify stage's problems added; and how many built objects passed."""
    head_start = start_focused_builds(layout, focus) if build and focus else None
    plan = make_plan(layout, focus)
    built = 0
    if plan.ok:
        plan.problems += verify_objects(plan)
    if plan.ok and build:
        outcome = head_start.result_for(plan) if head_start is not None else None
        problems, built = outcome if outcome is not None else verify_builds(plan)
        plan.problems += problems
    return plan, built


def execute_validate(options: Options, changed_since: str | None, build: bool) -> int:
    reporter = options.reporter("validate")
    try:
        try:
            paths = changed_paths(options.root, changed_since) if changed_since else None
        except GitError as error:
            raise GitError(f"--changed-since {changed_since}: {error}") from None
        focus = models_in_focus(paths) if paths is not None else None
        plan, built = verified_plan(options.layout, focus, build)
    except MlgitopsError as error:
        return reporter.failure(error)
    reporter.problems(plan.problems)
    if not plan.ok:
        return ExitCode.INVALID
    names = {m.name for m in plan.models}
    checked = len(plan.models) if focus is None else len(focus & names)
    reporter.result(
        f"ok: {checked} model(s) checked, {len(plan.files)} files rendered"
        + (f", {built} built objects valid" if build else ""),
        {
            "ok": True,
            "models_checked": checked,
            "files_rendered": len(plan.files),
            "built_objects_valid": built if build else None,
        },
    )
    return ExitCode.OK


@click.command()
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
