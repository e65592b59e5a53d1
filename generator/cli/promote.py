"""``mlgitops promote``: copy a model's pinned digest into the next environment."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import click

from generator.cli.options import options_of
from generator.cli.report import Reporter
from generator.errors import ExitCode, MlgitopsError

if TYPE_CHECKING:
    from generator.delivery.execute import PromoteOptions


def execute_promote(
    options: PromoteOptions, out: TextIO, err: TextIO, output_format: str = "text"
) -> int:
    """Promote; the change to ``out``, problems to ``err``; returns the exit code."""
    from generator.delivery.execute import promote

    reporter = Reporter(
        output_format, command="promote", label="mlgitops promote", out=out, err=err
    )

    def announce(text: str, data: Mapping[str, Any] | None) -> None:
        reporter.result(text, data)

    try:
        promote(options, announce)
    except MlgitopsError as error:
        return reporter.failure(error)
    return ExitCode.OK


@click.command("promote")
@click.argument("model")
@click.option("--to", "target", required=True, metavar="ENV", help="Environment to pin.")
@click.option("--from", "source", metavar="ENV", help="Source environment (default: previous).")
@click.pass_context
def promote_command(ctx: click.Context, model: str, target: str, source: str | None) -> None:
    """Copy MODEL's pinned image digest into ENV's entry of release.yaml."""
    from generator.delivery.execute import PromoteOptions

    cli = options_of(ctx)
    options = PromoteOptions(cli.root, model, target, source)
    ctx.exit(execute_promote(options, sys.stdout, sys.stderr, cli.output_format))
