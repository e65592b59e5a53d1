"""The ``mlgitops fetch`` command: click parses, ``execute_fetch`` does the work."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from generator.problems import InputError, Problem, render_report
from generator.repository import load_model

if TYPE_CHECKING:
    from generator.cli import Options

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def execute_fetch(options: Options, names: Sequence[str]) -> int:
    """Fetch the named models (all when none) into the cache; 1 when any fetch failed."""
    from generator.artifacts.fetch import fetch_model
    from generator.artifacts.files import default_cache

    layout = options.layout
    known = layout.model_names()
    unknown = [name for name in names if name not in known]
    if unknown:
        click.echo(
            f"error: no model named {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(known) or 'none'})",
            err=True,
        )
        return EXIT_USAGE
    cache = default_cache()
    problems: list[Problem] = []
    for name in names or known:
        model, found = load_model(layout, name)
        if model is None:
            problems += found
            continue
        try:
            outcome = fetch_model(layout, model, cache)
        except InputError as error:
            problems += error.problems
            continue
        if not options.quiet and options.output_format != "json":
            click.echo(f"{outcome.model}: {outcome.summary}")
    if problems:
        click.echo(render_report(problems, options.output_format), err=True)
        return EXIT_INVALID
    return EXIT_OK


@click.command("fetch")
@click.argument("models", nargs=-1)
@click.pass_obj
def fetch(options: Options, models: tuple[str, ...]) -> None:
    """Download each model's spec.artifact.uri (all models when none are named) into the
    artifact cache ($XDG_CACHE_HOME/mlgitops), checked against its sha256."""
    sys.exit(execute_fetch(options, models))
