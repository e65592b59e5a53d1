"""``mlgitops diff``: click parses, ``execute_diff`` does the work and returns the exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import click

from generator.changes import GitError
from generator.diff import compare, sides
from generator.diff.report import FORMATTERS
from generator.diff.restarts import restarts
from generator.diff.sources import inputs_at, resolve_ref
from generator.kustomize import KustomizeMissing
from generator.layout import RepoLayout
from generator.problems import Problem, render_report

if TYPE_CHECKING:
    from generator.cli import Options

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
WORKING_TREE = "working tree"


@contextmanager
def _inputs(options: Options, ref: str | None) -> Iterator[RepoLayout]:
    if ref is None:
        yield options.layout
    else:
        with inputs_at(options.root, ref) as layout:
            yield layout


def diff_report(options: Options, base: str, head: str | None) -> compare.DiffReport:
    """Render and build both sides, then compare. Raises GitError for unknown refs and
    sides.InvalidSides when either side's inputs are invalid."""
    with ExitStack() as stack:
        base_layout = stack.enter_context(_inputs(options, base))
        head_layout = stack.enter_context(_inputs(options, head))
        old, problems = sides.render_side(base_layout, base, base)
        new, head_problems = sides.render_side(head_layout, head or WORKING_TREE, head)
        problems += head_problems
        if problems:
            raise sides.InvalidSides(problems)
        keys = sides.affected(old.fingerprints, new.fingerprints)
        old_objects, problems = sides.build(old, keys)
        new_objects, head_problems = sides.build(new, keys)
        if problems or head_problems:
            raise sides.InvalidSides(problems + head_problems)
    order = sides.environment_order(new) + sides.environment_order(old)
    return compare.DiffReport(
        base=base,
        head=head or WORKING_TREE,
        overlays=compare.overlay_changes(old_objects, new_objects, order),
        impact=compare.impact(old.usage, new.usage, order),
        waivers=compare.waiver_changes(old.waivers, new.waivers),
        restarts=restarts(old_objects, new_objects, order),
    )


def execute_diff(options: Options, base: str, head: str | None, output: str) -> int:
    try:
        for ref in (base, head):
            if ref is not None:
                resolve_ref(options.root, ref)
        report = diff_report(options, base, head)
    except GitError as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_USAGE
    except KustomizeMissing as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_USAGE
    except sides.InvalidSides as error:
        problems: list[Problem] = error.problems
        click.echo(render_report(problems, options.output_format), err=True)
        return EXIT_INVALID
    click.echo(FORMATTERS[output](report), nl=False)
    return EXIT_OK


@click.command()
@click.option("--base", required=True, metavar="REF", help="Git ref to compare against.")
@click.option(
    "--head", metavar="REF", default=None, help="Git ref of the new side (default: working tree)."
)
@click.option(
    "--format",
    "output",
    type=click.Choice(sorted(FORMATTERS)),
    default="text",
    show_default=True,
    help="markdown: a pull request comment; json: stable output for machines.",
)
@click.pass_obj
def diff(options: Options, base: str, head: str | None, output: str) -> None:
    """Show what changes between the built manifests of REF and the working tree (or --head):
    objects and fields per environment and model, the quota impact, and policy waivers.
    Exits 0 with or without changes."""
    sys.exit(execute_diff(options, base, head, output))
