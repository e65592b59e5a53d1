"""``mlgitops rollback``: pin an environment's previous release again, from Git history."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import click

from generator.cli.options import options_of
from generator.cli.report import Reporter
from generator.errors import ExitCode, MlgitopsError

if TYPE_CHECKING:
    from generator.delivery.rollback import RollbackOptions


def execute_rollback(
    options: RollbackOptions, out: TextIO, err: TextIO, output_format: str = "text"
) -> int:
    """Roll back; the change to ``out``, problems to ``err``; returns the exit code."""
    from generator.delivery.execute import utc_now
    from generator.delivery.rollback import rollback

    reporter = Reporter(
        output_format, command="rollback", label="mlgitops rollback", out=out, err=err
    )

    def announce(text: str, data: Mapping[str, Any] | None) -> None:
        reporter.result(text, data)

    try:
        rollback(options, announce, utc_now())
    except MlgitopsError as error:
        return reporter.failure(error)
    return ExitCode.OK


@click.command("rollback")
@click.argument("model")
@click.option(
    "--env", "environment", required=True, metavar="ENV", help="Environment to roll back."
)
@click.option(
    "--to",
    "version",
    metavar="VERSION",
    help="Pin the release of this version (default: the pin before the current one).",
)
@click.pass_context
def rollback_command(ctx: click.Context, model: str, environment: str, version: str | None) -> None:
    """Move ENV's pin of MODEL back to an earlier one from the Git history of release.yaml."""
    from generator.delivery.rollback import RollbackOptions

    cli = options_of(ctx)
    options = RollbackOptions(cli.root, model, environment, version)
    ctx.exit(execute_rollback(options, sys.stdout, sys.stderr, cli.output_format))
