"""Namespace quota capacity: every model at its maximum scale, plus the extra pods its update
strategy starts (the surge), must fit its environment's quota.

Every model's surge counts at once: one change to environments.yaml (a node pool, the Fluentd
image) rolls every model of the environment in the same sync. A surge pod the quota refuses is
never created, and the update hangs until its progress deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from generator.load.platform import SIDECAR_REQUESTS, Environment, Platform
from generator.problems import Problem
from generator.quantities import (
    format_bytes,
    format_millicores,
    memory_bytes,
    millicores,
)
from generator.resolve import Resolved
from generator.rollout import FLAGGER


@dataclass(frozen=True)
class Demand:
    """What one model asks of its namespace at maxReplicas, sidecars included."""

    model: str
    cpu_millis: int
    memory_bytes: int
    gpus: int
    pods: int
    surge_pods: int = 0
    update: str = ""
    ephemeral_bytes: int = 0


def surge_pods(spec: Resolved) -> tuple[int, str]:
    """Pods an update adds beside ``maxReplicas``, and how to say why in a message.

    A rolling update and an Argo Rollouts canary add ``maxSurge`` (0 on a GPU pool by default:
    they replace pods in place); Flagger runs the canary as a second Deployment beside the
    primary, autoscaled by the model's HPA, so up to ``maxReplicas`` more.
    """
    rollout = spec.rollout
    replicas = spec.max_replicas
    if rollout.canary and spec.environment.progressive_delivery == FLAGGER:
        return replicas, "Flagger canary Deployment beside the primary"
    kind = "canary" if rollout.canary else "rolling update"
    return rollout.surge_pods(replicas), f"{kind}, maxSurge {rollout.max_surge}"


def demand(spec: Resolved) -> Demand:
    cpu = millicores(spec.cpu)
    memory = memory_bytes(spec.memory)
    storage = memory_bytes(spec.server_storage)
    if spec.fluentd:
        cpu += millicores(SIDECAR_REQUESTS["cpu"])
        memory += memory_bytes(SIDECAR_REQUESTS["memory"])
        storage += memory_bytes(SIDECAR_REQUESTS["ephemeral-storage"])
    replicas = spec.max_replicas
    surge, update = surge_pods(spec)
    return Demand(
        spec.model,
        cpu * replicas,
        memory * replicas,
        spec.gpus * replicas,
        replicas,
        surge,
        update,
        storage * replicas,
    )


def _surge(amount: Callable[[Demand], int], d: Demand) -> int:
    return amount(d) // d.pods * d.surge_pods if d.pods else 0


_RESOURCES: Sequence[tuple[str, str, Callable[[Demand], int], Callable[[int], str]]] = (
    ("cpu", "requests.cpu", lambda d: d.cpu_millis, format_millicores),
    ("memory", "requests.memory", lambda d: d.memory_bytes, format_bytes),
    ("gpus", "GPUs", lambda d: d.gpus, str),
    ("pods", "pods", lambda d: d.pods, str),
    ("ephemeralStorage", "requests.ephemeral-storage", lambda d: d.ephemeral_bytes, format_bytes),
)


def _limits(env: Environment) -> dict[str, int]:
    """The quota's limits; ephemeral storage only where the environment sets a quota for it."""
    limits = {
        "cpu": millicores(env.quota.cpu),
        "memory": memory_bytes(env.quota.memory),
        "gpus": env.quota.gpus,
        "pods": env.quota.pods,
    }
    if env.quota.ephemeral_storage:
        limits["ephemeralStorage"] = memory_bytes(env.quota.ephemeral_storage)
    return limits


def check_quota(
    platform: Platform, env: Environment, specs: Sequence[Resolved]
) -> Iterator[Problem]:
    demands = [demand(spec) for spec in specs]
    limits = _limits(env)
    for field, label, amount, fmt in _RESOURCES:
        if field not in limits:
            continue
        steady = sum(amount(d) for d in demands)
        surge = sum(_surge(amount, d) for d in demands)
        if steady + surge <= limits[field]:
            continue
        yield _overflow(platform, env, (field, label, amount, fmt), demands, limits[field])


def _overflow(
    platform: Platform,
    env: Environment,
    resource: tuple[str, str, Callable[[Demand], int], Callable[[int], str]],
    demands: Sequence[Demand],
    limit: int,
) -> Problem:
    field, label, amount, fmt = resource
    steady = sum(amount(d) for d in demands)
    surge = sum(_surge(amount, d) for d in demands)

    def total(d: Demand) -> int:
        return amount(d) + _surge(amount, d)

    largest = sorted(demands, key=lambda d: (-total(d), d.model))[:3]
    if not surge:
        consumers = ", ".join(f"{d.model} {fmt(amount(d))}" for d in largest if amount(d))
        return platform.document.problem(
            ("environments", env.index, "quota", field),
            f"environment {env.name!r}: {label} at maxReplicas is {fmt(steady)}, over the "
            f"quota of {fmt(limit)} (largest: {consumers})",
            f"raise quota.{field} of {env.name} in environments.yaml, or lower maxReplicas "
            "or requests of the largest models",
        )
    consumers = ", ".join(
        f"{d.model} {fmt(amount(d))}"
        + (f" + surge {fmt(_surge(amount, d))} ({d.update})" if _surge(amount, d) else "")
        for d in largest
        if total(d)
    )
    return platform.document.problem(
        ("environments", env.index, "quota", field),
        f"environment {env.name!r}: {label} at maxReplicas plus the update surge is "
        f"{fmt(steady + surge)} ({fmt(steady)} + surge {fmt(surge)}), over the quota of "
        f"{fmt(limit)} (largest: {consumers})",
        f"raise quota.{field} of {env.name} in environments.yaml, or lower maxReplicas, requests "
        "or spec.rollout.maxSurge of the largest models (maxSurge 0 replaces pods one at a time)",
    )


def update_surge(demands: Sequence[Demand]) -> tuple[int, int, int, int]:
    """CPU millicores, memory bytes, GPUs and pods that all the models' updates add at once."""
    totals = [sum(_surge(amount, d) for d in demands) for _, _, amount, _ in _RESOURCES]
    return totals[0], totals[1], totals[2], totals[3]
