"""``mlgitops profile MODEL --data PATH [--bins N]``: click parses, `execute_profile` works."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from generator.layout import RepoLayout
from generator.problems import InputError, Problem, render_report
from generator.repository import load_model

if TYPE_CHECKING:
    from generator.cli import Options

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class ProfileOutcome:
    exit_code: int
    problems: list[Problem]
    message: str = ""


def _shown(layout: RepoLayout, path: Path) -> str:
    resolved = path.resolve()
    return layout.relative(resolved) if resolved.is_relative_to(layout.root) else str(path)


def execute_profile(layout: RepoLayout, model_name: str, data: Path, bins: int) -> ProfileOutcome:
    """Profile ``model_name`` on ``data``; writes models/<name>/profile.json only on success."""
    if model_name not in layout.model_names():
        known = ", ".join(layout.model_names())
        return ProfileOutcome(EXIT_USAGE, [], f"unknown model {model_name!r}; known: {known}")
    try:
        from generator.monitoring.profile import (
            compute_profile,
            dump_profile,
            write_profile,
        )
    except ImportError as error:
        return ProfileOutcome(
            EXIT_USAGE,
            [],
            f"profiling runs the model with ONNX Runtime, which is not installed ({error}); "
            "pip install 'mlgitops[serving]'",
        )
    from generator.semantic import check_artifact

    model, problems = load_model(layout, model_name)
    if model is None:
        return ProfileOutcome(EXIT_INVALID, problems)
    problems = list(check_artifact(layout, model))
    if problems:
        return ProfileOutcome(EXIT_INVALID, problems)
    shown = _shown(layout, data)
    if not data.is_file():
        return ProfileOutcome(EXIT_USAGE, [], f"--data {data}: no such file")
    artifact = layout.model_dir(model.folder) / model.artifact_path
    try:
        document = compute_profile(
            model=model.name,
            artifact=artifact,
            shown_artifact=layout.relative(artifact),
            artifact_sha256=model.artifact_sha256,
            data=data,
            shown_data=shown,
            recorded_data=shown if not Path(shown).is_absolute() else data.name,
            bins=bins,
        )
    except InputError as error:
        return ProfileOutcome(EXIT_INVALID, error.problems)
    target = layout.profile_file(model.folder)
    write_profile(target, dump_profile(document))
    rows = document["data"]["rows"]
    return ProfileOutcome(
        EXIT_OK,
        [],
        f"wrote {layout.relative(target)}: {len(document['features'])} features, "
        f"{len(document['outputs'])} outputs, {rows} rows",
    )


@click.command()
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
    outcome = execute_profile(options.layout, model, data, bins)
    if outcome.problems:
        click.echo(render_report(outcome.problems, options.output_format), err=True)
    if outcome.message:
        error = outcome.exit_code != EXIT_OK
        click.echo(f"error: {outcome.message}" if error else outcome.message, err=error)
    sys.exit(outcome.exit_code)
