"""How an overlay's built objects roll a new version out, in one phrase for the diff, so a
reviewer sees a strategy change and the canary's steps at a glance instead of piecing them
together from an added Rollout and a changed HPA target."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Object = Mapping[str, Any]


def _find(objects: Sequence[Object], kind: str) -> Object | None:
    return next((o for o in objects if o.get("kind") == kind), None)


def _percentages(weights: Sequence[Any]) -> str:
    return " → ".join(f"{w}%" for w in weights)


def rollout_summary(objects: Sequence[Object]) -> str | None:
    """``canary by Argo Rollouts: 10% → 50%, 5m per step``, ``rolling update (maxSurge 25%,
    maxUnavailable 0)``, or None when the overlay has no workload."""
    argo = _find(objects, "Rollout")
    if argo is not None:
        canary = argo.get("spec", {}).get("strategy", {}).get("canary", {})
        steps = canary.get("steps", [])
        weights = [s["setWeight"] for s in steps if "setWeight" in s]
        pauses = {str(s["pause"].get("duration")) for s in steps if "pause" in s}
        return (
            f"canary by Argo Rollouts: {_percentages(weights)}, {', '.join(sorted(pauses))} per "
            f"step (maxSurge {canary.get('maxSurge')})"
        )
    flagger = _find(objects, "Canary")
    if flagger is not None:
        analysis = flagger.get("spec", {}).get("analysis", {})
        return (
            f"canary by Flagger: {_percentages(analysis.get('stepWeights', []))}, "
            f"{analysis.get('interval')} per step"
        )
    deployment = _find(objects, "Deployment")
    if deployment is None:
        return None
    rolling = deployment.get("spec", {}).get("strategy", {}).get("rollingUpdate", {})
    return (
        f"rolling update (maxSurge {rolling.get('maxSurge')}, "
        f"maxUnavailable {rolling.get('maxUnavailable')})"
    )
