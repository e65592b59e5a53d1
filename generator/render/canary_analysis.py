"""The PromQL a canary analysis runs, shared by the Argo Rollouts and Flagger renderers.

Each query compares what the canary's pods served over one step with the model's objectives:
the 5xx ratio of inference requests against ``spec.slo.errorRatio``, their p99 latency against
``spec.slo.latencyP99Ms``, and, with drift monitoring on, the population stability index (PSI)
between the canary's and the stable pods' prediction distributions against the drift threshold.

Canary and stable series are told apart by labels the scrape really adds: Argo Rollouts stamps
``rollouts-pod-template-hash`` on every pod, which the ServiceMonitor copies onto the series
(``podTargetLabels``; the Prometheus Operator turns ``-`` into ``_``); Flagger runs the canary
behind the Service ``<model>-canary`` and the stable version behind ``<model>-primary``, which
the Prometheus Operator's ``service`` label names.

PSI over bins i with shares c_i (canary) and s_i (stable) is sum((c_i - s_i) * ln(c_i / s_i)),
as in Yurdakul, "Statistical Properties of Population Stability Index" (2018). A bin one side
never saw counts as a share of 0, floored at drift monitoring's epsilon (1e-4) so the logarithm
stays finite, as its own PSI rules do; an empty bin then still adds a large term, as it should.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.render.drift import EPSILON as PSI_FLOOR
from generator.render.drift import PREDICTION_BINS
from generator.render.monitoring import INFERENCE_ROUTES, REQUEST_DURATION, REQUESTS
from generator.resolve import Resolved

ERROR_RATIO = "error-ratio"
LATENCY_P99 = "latency-p99"
PREDICTION_PSI = "prediction-psi"


@dataclass(frozen=True)
class Sides:
    """PromQL label matchers (without braces) of the canary's and the stable pods' series."""

    canary: str
    stable: str


@dataclass(frozen=True)
class AnalysisMetric:
    """One check: its name, its query, and the bound its result must stay under."""

    name: str
    query: str
    limit: float
    unit: str


def window(spec: Resolved) -> str:
    """The range each query measures: one canary step, in a unit both controllers accept."""
    seconds = spec.rollout.step_seconds
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def _infer(sides: str) -> str:
    return f'{sides}, route=~"{INFERENCE_ROUTES}"'


def error_ratio_query(spec: Resolved, side: str) -> str:
    """Share of the side's inference requests answered with a 5xx; 0 when none failed, empty
    (no verdict) when it served none."""
    w = window(spec)
    return (
        f'(sum(rate({REQUESTS}{{{_infer(side)}, status=~"5.."}}[{w}])) or vector(0))\n'
        f"/ sum(rate({REQUESTS}{{{_infer(side)}}}[{w}]))"
    )


def latency_p99_query(spec: Resolved, side: str) -> str:
    """p99 of the side's inference request duration, in seconds."""
    return (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate({REQUEST_DURATION}_bucket{{{_infer(side)}}}[{window(spec)}])))"
    )


def _shares(spec: Resolved, side: str) -> str:
    counts = f'increase({PREDICTION_BINS}{{{side}, model="{spec.model}"}}[{window(spec)}])'
    return (
        f"(sum by (output, bin) ({counts})\n"
        f"  / on (output) group_left () sum by (output) ({counts}))"
    )


def prediction_psi_query(spec: Resolved, sides: Sides) -> str:
    """The largest PSI over the model's outputs between canary and stable predictions."""
    canary, stable = _shares(spec, sides.canary), _shares(spec, sides.stable)
    c = f"clamp_min({canary}\n  or {stable} * 0, {PSI_FLOOR:g})"
    s = f"clamp_min({stable}\n  or {canary} * 0, {PSI_FLOOR:g})"
    return f"max(sum by (output) (\n({c} - {s})\n* ln({c} / {s})\n))"


def drift_threshold(spec: Resolved) -> float | None:
    """The PSI bound of the drift check, or None where drift monitoring is off: the one place
    the canary analysis reads the drift settings."""
    return spec.drift_psi_threshold if spec.drift_enabled else None


def analysis_metrics(spec: Resolved, sides: Sides) -> list[AnalysisMetric]:
    """The checks of one canary step; the drift check only where drift monitoring is on."""
    metrics = [
        AnalysisMetric(
            ERROR_RATIO, error_ratio_query(spec, sides.canary), spec.slo_error_ratio, "ratio"
        ),
        AnalysisMetric(
            LATENCY_P99,
            latency_p99_query(spec, sides.canary),
            spec.slo_latency_p99_ms / 1000,
            "seconds",
        ),
    ]
    threshold = drift_threshold(spec)
    if threshold is not None:
        metrics.append(
            AnalysisMetric(PREDICTION_PSI, prediction_psi_query(spec, sides), threshold, "PSI")
        )
    return metrics
