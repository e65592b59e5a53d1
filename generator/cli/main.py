"""The ``mlgitops`` group. Click only parses; each command module's ``execute_*`` does the work
and returns an exit code (``generator.errors.ExitCode``), so each can be tested without a
terminal."""

from __future__ import annotations

import gc
from pathlib import Path

import click

from generator.cli.build import build_command
from generator.cli.diff import diff
from generator.cli.fetch import fetch
from generator.cli.generate import generate
from generator.cli.init import init
from generator.cli.options import FORMATS, Options, default_format
from generator.cli.policy import policy
from generator.cli.profile import profile
from generator.cli.promote import promote_command
from generator.cli.render import render
from generator.cli.rollback import rollback_command
from generator.cli.schema import schema
from generator.cli.up import down_command, up_command
from generator.cli.validate import validate


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
    help="How problems (stderr) and results (stdout) are printed "
    "(default: github under GitHub Actions, else text).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print problems only.")
@click.version_option(package_name="mlgitops")
@click.pass_context
def main(ctx: click.Context, root: Path, output_format: str | None, quiet: bool) -> None:
    """Generate and validate GitOps manifests for ML model serving."""
    _tune_garbage_collector()
    if not root.is_dir():
        raise click.BadParameter(f"{root} is not a directory", param_hint="--root")
    ctx.obj = Options(root.resolve(), output_format or default_format(), quiet)


for command in (
    validate,
    generate,
    render,
    diff,
    policy,
    init,
    schema,
    build_command,
    promote_command,
    rollback_command,
    fetch,
    profile,
    up_command,
    down_command,
):
    main.add_command(command)
