"""``mlgitops profile MODEL --data PATH [--bins N]``: the reference of drift monitoring."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.options import Options
from generator.errors import ExitCode, MlgitopsError
from generator.monitoring.execute import profile_model


def execute_profile(options: Options, model: str, data: Path, bins: int) -> int:
    reporter = options.reporter("profile")
    try:
        done = profile_model(options.layout, model, data, bins)
    except MlgitopsError as error:
        return reporter.failure(error)
    reporter.result(
        f"wrote {done.path}: {done.features} features, {done.outputs} outputs, {done.rows} rows",
        {"path": done.path, "features": done.features, "outputs": done.outputs, "rows": done.rows},
    )
    return ExitCode.OK


@click.command("profile")
@click.argument("model")
@click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Reference inputs: CSV (header optional) or .npy, columns in the inputs' order.",
)
@click.option(
    "--bins",
    type=click.IntRange(2, 50),
    default=10,
    show_default=True,
    help="Bins per feature and continuous output (quantiles of the reference data).",
)
@click.pass_obj
def profile(options: Options, model: str, data: Path, bins: int) -> None:
    """Write models/MODEL/profile.json, the reference that drift monitoring compares with."""
    sys.exit(execute_profile(options, model, data, bins))
