"""``mlgitops generate``: validate, then write the generated tree atomically (or --check)."""

from __future__ import annotations

import sys

import click

from generator.cli.options import Options
from generator.cli.report import Reporter
from generator.cli.validate import verified_plan
from generator.errors import ExitCode, MlgitopsError
from generator.problems import Problem
from generator.write import Changes, apply_changes, compare, recover, repository_lock


def execute_generate(options: Options, check: bool, build: bool) -> int:
    reporter = options.reporter("generate")
    try:
        with repository_lock(options.root):
            if not check:
                recover(options.root)
            plan, _ = verified_plan(options.layout, None, build)
            reporter.problems(plan.problems)
            if not plan.ok:
                return ExitCode.INVALID
            changes = compare(options.root, plan.files)
            if changes.foreign:
                reporter.problems(changes.foreign)
                return ExitCode.INVALID
            if check:
                return _report_drift(reporter, changes)
            apply_changes(options.root, changes)
    except MlgitopsError as error:
        return reporter.failure(error)
    total = len(changes.added) + len(changes.changed) + len(changes.removed)
    reporter.result(
        f"generated {len(plan.files)} files: {len(changes.added)} added, "
        f"{len(changes.changed)} changed, {len(changes.removed)} removed"
        + ("" if total else " (up to date)"),
        {
            "files": len(plan.files),
            "added": sorted(changes.added),
            "changed": sorted(changes.changed),
            "removed": sorted(changes.removed),
        },
    )
    return ExitCode.OK


def _report_drift(reporter: Reporter, changes: Changes) -> int:
    if changes.empty:
        reporter.result("ok: the generated tree is up to date", {"ok": True, "drift": []})
        return ExitCode.OK
    problems = [
        Problem(path, 0, 0, message, "run 'mlgitops generate' and commit the result")
        for message, paths in (
            ("would be created (missing from the tree)", changes.added),
            ("differs from what the inputs generate (stale or edited by hand)", changes.changed),
            ("is no longer generated and would be deleted", changes.removed),
        )
        for path in paths
    ]
    reporter.problems(problems)
    return ExitCode.INVALID


@click.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing files that differ.")
@click.option("--skip-build", is_flag=True, help="Do not verify overlays with kustomize.")
@click.pass_obj
def generate(options: Options, check: bool, skip_build: bool) -> None:
    """Validate, then write base/, components/, overlays/ and clusters/ atomically."""
    sys.exit(execute_generate(options, check, not skip_build))
