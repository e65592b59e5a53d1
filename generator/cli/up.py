"""``mlgitops up`` and ``mlgitops down``: they only parse arguments and hand over to
``generator.run.up``, imported when a command runs (it brings the docker SDK)."""

from __future__ import annotations

import os
import sys

import click

from generator.cli.options import options_of


@click.command("up")
@click.argument("model")
@click.option("--env", "env", required=True, help="Environment name from environments.yaml.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Publish the server's HTTP port on 127.0.0.1:PORT (default: a free port).",
)
@click.option("--detach", is_flag=True, help="Return once the pod is ready.")
@click.option("--base-image", help="BASE_IMAGE of the runtime image (as for build).")
@click.option(
    "--fluentd-image",
    help="Image for the Fluentd sidecar and the local aggregator (default: the environment's).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    help="Seconds to wait for readiness (default: the startupProbe's budget).",
)
@click.pass_context
def up_command(
    ctx: click.Context,
    model: str,
    env: str,
    port: int | None,
    detach: bool,
    base_image: str | None,
    fluentd_image: str | None,
    timeout: float | None,
) -> None:
    """Run MODEL's built pod for ENV in Podman, as a cluster would; stream its logs."""
    from generator.run.up import UpOptions, execute_up

    options = UpOptions(
        options_of(ctx).root, model, env, port, detach, base_image, fluentd_image, timeout
    )
    ctx.exit(execute_up(options, sys.stdout, sys.stderr, os.environ))


@click.command("down")
@click.argument("model")
@click.option("--env", "env", required=True, help="Environment name from environments.yaml.")
@click.pass_context
def down_command(ctx: click.Context, model: str, env: str) -> None:
    """Stop MODEL's pod for ENV within its grace period and remove what `up` created."""
    from generator.run.up import execute_down

    ctx.exit(execute_down(model, env, sys.stdout, sys.stderr))
