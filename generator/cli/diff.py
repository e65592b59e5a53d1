"""``mlgitops diff``: click parses, ``execute_diff`` does the work and returns the exit code."""

from __future__ import annotations

import sys

import click

from generator.cli.options import Options
from generator.diff.execute import diff_report
from generator.diff.report import FORMATTERS
from generator.errors import ExitCode, MlgitopsError
from generator.git import resolve_ref


def execute_diff(options: Options, base: str, head: str | None, output: str) -> int:
    """``output`` is the diff's own format (text, markdown, json); problems and errors follow
    the global ``--format``."""
    reporter = options.reporter("diff")
    try:
        for ref in (base, head):
            if ref is not None:
                resolve_ref(options.root, ref)
        report = diff_report(options.root, base, head)
    except MlgitopsError as error:
        return reporter.failure(error)
    reporter.output(FORMATTERS[output](report))
    return ExitCode.OK


@click.command()
@click.option("--base", required=True, metavar="REF", help="Git ref to compare against.")
@click.option(
    "--head", metavar="REF", default=None, help="Git ref of the new side (default: working tree)."
)
@click.option(
    "--format",
    "output",
    type=click.Choice(sorted(FORMATTERS)),
    default=None,
    help="markdown: a pull request comment; json: stable output for machines "
    "(default: json under the global --format json, else text).",
)
@click.pass_obj
def diff(options: Options, base: str, head: str | None, output: str | None) -> None:
    """Show what changes between the built manifests of REF and the working tree (or --head):
    objects and fields per environment and model, the quota impact, and policy waivers.
    Exits 0 with or without changes."""
    chosen = output or ("json" if options.output_format == "json" else "text")
    sys.exit(execute_diff(options, base, head, chosen))
