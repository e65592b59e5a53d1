"""Checks of ``spec.rollout`` against the environment it runs in: a canary needs a progressive
delivery controller and the metrics its analysis reads; steps must rise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from generator.load.modelspec import ModelSource
from generator.load.platform import Environment, Platform
from generator.problems import Problem, Severity
from generator.resolve import merged_tunables, origin
from generator.rollout import CANARY, NO_CONTROLLER, rollout_spec


def check_rollout(model: ModelSource, env: Environment, platform: Platform) -> Iterator[Problem]:
    """Problems of the model's effective rollout in ``env``, each at the field that set it."""
    tunables = merged_tunables(model, env)
    rollout = rollout_spec(tunables)
    if not rollout.surges and tunables["scaling"]["minReplicas"] == 1:
        doc, path = origin(model, env, platform, ("rollout", "maxSurge"))
        problem = doc.problem(
            path,
            f"{env.name}: updates replace pods in place (maxSurge 0) and minReplicas is 1, so "
            "each update stops the only pod first: the model is unavailable until the new one "
            "is ready",
            "set scaling.minReplicas: 2, or rollout.maxSurge: 1 where a spare "
            + ("GPU" if tunables["accelerator"] == "gpu" else "pod")
            + " is available",
        )
        yield replace(problem, severity=Severity.WARNING)
    if list(rollout.steps) != sorted(set(rollout.steps)):
        doc, path = origin(model, env, platform, ("rollout", "steps"))
        yield doc.problem(
            path,
            f"{env.name}: canary steps {list(rollout.steps)} must rise, each step above the last",
            f"write them in rising order without repeats, such as {sorted(set(rollout.steps))}",
        )
    if not rollout.canary:
        return
    doc, path = origin(model, env, platform, ("rollout", "strategy"))
    if env.progressive_delivery == NO_CONTROLLER:
        yield doc.problem(
            path,
            f"{model.name} asks for a {CANARY} rollout in environment {env.name!r}, which has no "
            "progressive delivery controller (progressiveDelivery: none)",
            f"set spec.environments.{env.name}.rollout.strategy: rolling, or set "
            f"progressiveDelivery: argo-rollouts or flagger for {env.name} in environments.yaml "
            "(the controller must be installed in its cluster)",
        )
    elif not env.monitoring.prometheus_operator:
        yield doc.problem(
            path,
            f"{model.name} asks for a {CANARY} rollout in environment {env.name!r}, whose "
            "analysis needs the model's metrics, but monitoring.prometheusOperator is off there",
            f"set monitoring: {{prometheusOperator: true}} for {env.name} in environments.yaml, "
            f"or spec.environments.{env.name}.rollout.strategy: rolling",
        )
