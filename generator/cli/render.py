"""``mlgitops render``: the built manifests of one overlay, as kustomize prints them."""

from __future__ import annotations

import json
import sys

import click

from generator.cli.options import Options
from generator.errors import ExitCode, MlgitopsError, UsageError
from generator.load.yamlsource import load_all_core
from generator.pipeline import make_plan
from generator.verify.overlays import build_one


def execute_render(options: Options, model: str, env: str) -> int:
    reporter = options.reporter("render")
    try:
        plan = make_plan(options.layout, {model})
        known_models = {m.name for m in plan.models}
        if plan.ok and model not in known_models:
            raise UsageError(f"unknown model {model!r}; known: {', '.join(sorted(known_models))}")
        if plan.ok and plan.platform is not None and plan.platform.environment(env) is None:
            names = ", ".join(plan.platform.environment_names)
            raise UsageError(f"unknown environment {env!r}; known: {names}")
        if plan.ok and not any(
            d.model == model and d.environment.name == env for d in plan.deployments
        ):
            raise UsageError(f"{model} is disabled in {env} (spec.environments.{env}.enabled)")
        if not plan.ok:
            reporter.problems(plan.problems)
            return ExitCode.INVALID
        result = build_one(plan, model, env)
    except MlgitopsError as error:
        return reporter.failure(error)
    if not result.ok:
        return reporter.error(f"kustomize build failed: {result.error}", code=ExitCode.INVALID)
    if options.output_format == "json":
        reporter.output(json.dumps(load_all_core(result.output), indent=2) + "\n")
    else:
        reporter.output(result.output)
    return ExitCode.OK


@click.command()
@click.argument("model")
@click.option("--env", "env", required=True, help="Environment name from environments.yaml.")
@click.pass_obj
def render(options: Options, model: str, env: str) -> None:
    """Print the fully built manifests of one overlay (kustomize output; a JSON list of the
    objects under the global --format json)."""
    sys.exit(execute_render(options, model, env))
