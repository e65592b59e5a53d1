"""Click commands for delivery; they only parse arguments and hand over to ``execute``.

Registered by the CLI group in generator/cli.py, whose ``--root`` lands in ``ctx.obj.root``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

# The docker SDK behind ``execute`` takes a noticeable share of every CLI start, so it is
# imported only when a delivery command actually runs (validate must start fast in CI).


def _root(ctx: click.Context) -> Path:
    root = getattr(ctx.obj, "root", None)
    return Path(root) if root is not None else Path.cwd()


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
    from generator.delivery.execute import BuildOptions, execute_build

    options = BuildOptions(
        _root(ctx), models, push, registry, base_image, changed_since, no_cache, gpu_base_image
    )
    ctx.exit(execute_build(options, sys.stdout, sys.stderr, os.environ))


@click.command("promote")
@click.argument("model")
@click.option("--to", "target", required=True, metavar="ENV", help="Environment to pin.")
@click.option("--from", "source", metavar="ENV", help="Source environment (default: previous).")
@click.pass_context
def promote_command(ctx: click.Context, model: str, target: str, source: str | None) -> None:
    """Copy MODEL's pinned image digest into ENV's entry of release.yaml."""
    from generator.delivery.execute import PromoteOptions, execute_promote

    options = PromoteOptions(_root(ctx), model, target, source)
    ctx.exit(execute_promote(options, sys.stdout, sys.stderr))


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
    from generator.delivery.execute import utc_now
    from generator.delivery.rollback import RollbackOptions, execute_rollback

    options = RollbackOptions(_root(ctx), model, environment, version)
    ctx.exit(execute_rollback(options, sys.stdout, sys.stderr, utc_now()))
