"""How a new version replaces the running one (``spec.rollout``), resolved per environment.

Kept apart from ``resolve`` so the quota check, the renderers and the checks share one reading
of the strategy and of the surge it needs. Surge arithmetic follows Kubernetes: a percentage
``maxSurge`` is rounded up, and ``maxUnavailable`` may be 0 only while ``maxSurge`` is not
(the API server refuses a Deployment with both at 0), so an update without surge replaces one
pod at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROLLING = "rolling"
CANARY = "canary"
NO_CONTROLLER = "none"
ARGO_ROLLOUTS = "argo-rollouts"
FLAGGER = "flagger"
DEFAULT_SURGE = "25%"


@dataclass(frozen=True)
class RolloutSpec:
    """The resolved ``spec.rollout`` of one model in one environment.

    ``max_surge`` is what the user wrote (an int or ``"N%"``), or the default: 25%, but 0 for a
    GPU model with more than one replica, which replaces pods in place (spare GPUs are the
    scarcest thing a cluster has, and the other replicas carry the traffic meanwhile); a single
    GPU replica still surges, since replacing it in place would stop the model.
    """

    strategy: str = ROLLING
    steps: tuple[int, ...] = (10, 50)
    step_duration: str = "5m"
    max_surge: int | str = DEFAULT_SURGE

    @property
    def canary(self) -> bool:
        return self.strategy == CANARY

    @property
    def max_unavailable(self) -> int:
        """0 while surge pods carry the update; 1 (replace in place) when there is no surge."""
        return 0 if self.surges else 1

    @property
    def surges(self) -> bool:
        return self.max_surge not in (0, "0%")

    def surge_pods(self, replicas: int) -> int:
        """Extra pods the update runs at ``replicas`` (percentages rounded up, as Kubernetes)."""
        if isinstance(self.max_surge, int):
            return self.max_surge
        return math.ceil(replicas * int(self.max_surge.rstrip("%")) / 100)

    @property
    def step_seconds(self) -> int:
        """``step_duration`` in seconds (the schema allows ``<n>s``, ``<n>m``, ``<n>h``)."""
        unit = {"s": 1, "m": 60, "h": 3600}[self.step_duration[-1]]
        return int(self.step_duration[:-1]) * unit


def rollout_spec(tunables: Mapping[str, Any]) -> RolloutSpec:
    """``RolloutSpec`` from a model's merged tunables (schema defaults already applied)."""
    data = tunables.get("rollout", {})
    in_place = tunables.get("accelerator") == "gpu" and tunables["scaling"]["minReplicas"] > 1
    default_surge: int | str = 0 if in_place else DEFAULT_SURGE
    return RolloutSpec(
        strategy=data.get("strategy", ROLLING),
        steps=tuple(data.get("steps", (10, 50))),
        step_duration=data.get("stepDuration", "5m"),
        max_surge=data.get("maxSurge", default_surge),
    )


def canary_controller(rollout: RolloutSpec, progressive_delivery: str) -> str | None:
    """The controller that rolls a model out by canary (argo-rollouts or flagger), or None for
    a Deployment's rolling update. The check stage refuses a canary without a controller."""
    if rollout.canary and progressive_delivery in (ARGO_ROLLOUTS, FLAGGER):
        return progressive_delivery
    return None
