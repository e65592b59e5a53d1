"""``mlgitops build``: the runtime image once and one image per model; with --push, pins."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import click

from generator.cli.options import options_of
from generator.cli.report import Reporter
from generator.errors import ExitCode, MlgitopsError

if TYPE_CHECKING:
    from generator.delivery.execute import BuildOptions

# The docker SDK behind ``delivery.execute`` takes a noticeable share of every CLI start, so it
# is imported only when a delivery command actually runs (validate must start fast in CI).


def execute_build(
    options: BuildOptions,
    out: TextIO,
    err: TextIO,
    environ: Mapping[str, str],
    output_format: str = "text",
) -> int:
    """Build; results to ``out``, problems and progress to ``err``; returns the exit code."""
    from generator.delivery.execute import build_images

    reporter = Reporter(output_format, command="build", label="mlgitops build", out=out, err=err)
    results: list[Mapping[str, Any]] = []

    def announce(text: str, data: Mapping[str, Any] | None) -> None:
        if data is not None:
            results.append(data)
        if output_format != "json":
            reporter.result(text)

    try:
        build_images(options, announce, err, environ)
    except MlgitopsError as error:
        return reporter.failure(error)
    reporter.result("", {"images": results})
    return ExitCode.OK


@click.command("build")
@click.argument("models", nargs=-1)
@click.option("--push", is_flag=True, help="Push each image and pin its digest in release.yaml.")
@click.option("--registry", help="Image repository prefix; default: registry in environments.yaml.")
@click.option("--base-image", help="BASE_IMAGE of the runtime image (default: the Dockerfile's).")
@click.option(
    "--gpu-base-image",
    help="BASE_IMAGE of the GPU runtime image, built for models that run on a GPU somewhere "
    "(default: serving/Dockerfile.gpu's CUDA image).",
)
@click.option("--changed-since", metavar="REF", help="Only models whose inputs changed since REF.")
@click.option("--no-cache", is_flag=True, help="Ignore the builder's layer cache.")
@click.pass_context
def build_command(
    ctx: click.Context,
    models: tuple[str, ...],
    push: bool,
    registry: str | None,
    base_image: str | None,
    changed_since: str | None,
    no_cache: bool,
    gpu_base_image: str | None,
) -> None:
    """Build the runtime image once and one image per model; with --push, pin its digest."""
    from generator.delivery.execute import BuildOptions

    cli = options_of(ctx)
    options = BuildOptions(
        cli.root, models, push, registry, base_image, changed_since, no_cache, gpu_base_image
    )
    ctx.exit(execute_build(options, sys.stdout, sys.stderr, os.environ, cli.output_format))
