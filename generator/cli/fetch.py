"""``mlgitops fetch``: registry, bucket and HTTPS artifacts into the artifact cache."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from generator.cli.options import Options
from generator.errors import ExitCode
from generator.problems import InputError, Problem


def execute_fetch(options: Options, names: Sequence[str]) -> int:
    """Fetch the named models (all when none) into the cache; 1 when any fetch failed."""
    # The sources' clients (mlflow, boto3, requests) load only when a fetch runs.
    from generator.artifacts.cache import default_cache
    from generator.delivery.fetch import fetch_model
    from generator.load.repository import load_model

    reporter = options.reporter("fetch")
    layout = options.layout
    known = layout.model_names()
    unknown = [name for name in names if name not in known]
    if unknown:
        return reporter.error(
            f"no model named {', '.join(map(repr, unknown))}",
            f"known: {', '.join(known) or 'none'}",
        )
    cache = default_cache()
    problems: list[Problem] = []
    fetched = []
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
        fetched.append({"model": outcome.model, "summary": outcome.summary})
        if options.output_format != "json":
            reporter.result(f"{outcome.model}: {outcome.summary}")
    reporter.problems(problems)
    reporter.result("", {"models": fetched})
    return ExitCode.INVALID if problems else ExitCode.OK


@click.command("fetch")
@click.argument("models", nargs=-1)
@click.pass_obj
def fetch(options: Options, models: tuple[str, ...]) -> None:
    """Download each model's spec.artifact.uri (all models when none are named) into the
    artifact cache ($XDG_CACHE_HOME/mlgitops), checked against its sha256."""
    sys.exit(execute_fetch(options, models))
