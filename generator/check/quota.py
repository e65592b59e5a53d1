"""Namespace quota capacity: every model at its maximum scale must fit its environment's quota."""

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


@dataclass(frozen=True)
class Demand:
    """What one model asks of its namespace at maxReplicas, sidecars included."""

    model: str
    cpu_millis: int
    memory_bytes: int
    gpus: int
    pods: int


def demand(spec: Resolved) -> Demand:
    cpu = millicores(spec.cpu)
    memory = memory_bytes(spec.memory)
    if spec.fluentd:
        cpu += millicores(SIDECAR_REQUESTS["cpu"])
        memory += memory_bytes(SIDECAR_REQUESTS["memory"])
    replicas = spec.max_replicas
    return Demand(spec.model, cpu * replicas, memory * replicas, spec.gpus * replicas, replicas)


_RESOURCES: Sequence[tuple[str, str, Callable[[Demand], int], Callable[[int], str]]] = (
    ("cpu", "requests.cpu", lambda d: d.cpu_millis, format_millicores),
    ("memory", "requests.memory", lambda d: d.memory_bytes, format_bytes),
    ("gpus", "GPUs", lambda d: d.gpus, str),
    ("pods", "pods", lambda d: d.pods, str),
)


def _limits(env: Environment) -> dict[str, int]:
    return {
        "cpu": millicores(env.quota.cpu),
        "memory": memory_bytes(env.quota.memory),
        "gpus": env.quota.gpus,
        "pods": env.quota.pods,
    }


def check_quota(
    platform: Platform, env: Environment, specs: Sequence[Resolved]
) -> Iterator[Problem]:
    demands = [demand(spec) for spec in specs]
    limits = _limits(env)
    for field, label, amount, fmt in _RESOURCES:
        total = sum(amount(d) for d in demands)
        if total <= limits[field]:
            continue
        largest = sorted(demands, key=lambda d: (-amount(d), d.model))[:3]
        consumers = ", ".join(f"{d.model} {fmt(amount(d))}" for d in largest if amount(d))
        yield platform.document.problem(
            ("environments", env.index, "quota", field),
            f"environment {env.name!r}: {label} at maxReplicas is {fmt(total)}, over the "
            f"quota of {fmt(limits[field])} (largest: {consumers})",
            f"raise quota.{field} of {env.name} in environments.yaml, or lower maxReplicas "
            "or requests of the largest models",
        )
