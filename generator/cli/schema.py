"""``mlgitops schema``: the field reference of model.yaml and environments.yaml."""

from __future__ import annotations

import sys

import click

from generator.cli.options import Options
from generator.errors import ExitCode
from generator.schemadoc import render_json, render_markdown


def execute_schema(options: Options, output_format: str | None) -> int:
    """``output_format``: markdown or json; by default json under the global --format json."""
    chosen = output_format or ("json" if options.output_format == "json" else "markdown")
    options.reporter("schema").output(render_json() if chosen == "json" else render_markdown())
    return ExitCode.OK


@click.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("markdown", "json")),
    default=None,
    help="markdown (default): the reference docs/model-yaml.md holds; json: the same rows "
    "for tools (default under the global --format json).",
)
@click.pass_obj
def schema(options: Options, output_format: str | None) -> None:
    """Print the model.yaml and environments.yaml field reference, from the JSON Schemas."""
    sys.exit(execute_schema(options, output_format))
