"""Every canary analysis query, run by a real Prometheus (``promtool test rules``) on recorded
series: a healthy canary passes each check, and extra 5xx, slow responses and shifted
predictions each fail exactly their own check. The series carry the labels the scrape really
adds (the Prometheus Operator's ``namespace``, ``service``, ``pod``, and Argo's pod template
hash through ``podTargetLabels``), and the stable pods' series are deliberately bad in the
healthy case, so a query that mixed canary and stable would fail it."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.render.canary_analysis import (
    ERROR_RATIO,
    LATENCY_P99,
    PREDICTION_PSI,
    AnalysisMetric,
    analysis_metrics,
)
from generator.render.rollout_argo import analysis_template, argo_sides
from generator.render.rollout_flagger import flagger_sides, metric_templates
from generator.resolve import Resolved
from generator.rollout import FLAGGER
from tests.monitoring.promtool import run_rule_tests

PROJECT = Path(__file__).resolve().parents[2]
CANARY_HASH, STABLE_HASH = "7c9d8f6b5", "5f4d7c8b9"
ROUTE = {"route": "/v2/models/<name>/infer", "method": "POST"}
CHECKS = (ERROR_RATIO, LATENCY_P99, PREDICTION_PSI)


@pytest.fixture(scope="module")
def iris() -> Resolved:
    """prod's iris-classifier (a canary under Argo Rollouts in the examples), with drift
    monitoring on at the default threshold, as spec.monitoring.drift would set it."""
    plan = make_plan(RepoLayout(PROJECT))
    assert plan.ok, plan.problems
    spec = next(
        d for d in plan.deployments if d.environment.name == "prod" and d.model == "iris-classifier"
    )
    assert spec.rollout.canary
    return replace(spec, drift_enabled=True, drift_psi_threshold=0.2)


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


class Pods:
    """The scrape labels of one side (canary or stable) under one controller."""

    def __init__(self, controller: str, side: str) -> None:
        self.labels = {"namespace": "ml-prod"}
        if controller == FLAGGER:
            name = "iris-classifier" if side == "canary" else "iris-classifier-primary"
            self.labels |= {
                "service": "iris-classifier-canary" if side == "canary" else name,
                "pod": f"{name}-6d4f9c7b8-x2x9z",
            }
        else:
            pod_hash = CANARY_HASH if side == "canary" else STABLE_HASH
            self.labels |= {
                "service": "iris-classifier",
                "pod": f"iris-classifier-{pod_hash}-x2x9z",
                "rollouts_pod_template_hash": pod_hash,
            }

    def requests(self, ok: int, errors: int) -> list[dict[str, str]]:
        base = "mlgitops_serve_requests_total"
        return [
            {
                "series": base + _labels({**self.labels, **ROUTE, "status": "200"}),
                "values": f"0+{ok}x15",
            },
            {
                "series": base + _labels({**self.labels, **ROUTE, "status": "500"}),
                "values": f"0+{errors}x15",
            },
            # Health checks fail loudly but are no inference requests: never counted.
            {
                "series": base
                + _labels(
                    {**self.labels, "route": "/v2/health/ready", "method": "GET", "status": "503"}
                ),
                "values": "0+500x15",
            },
        ]

    def latency(self, slow: bool) -> list[dict[str, str]]:
        # 100 requests a minute; fast: all under 50 ms; slow: 10% between 250 ms and 1 s.
        buckets = {
            "0.05": 90 if slow else 100,
            "0.1": 90 if slow else 100,
            "0.25": 90 if slow else 100,
            "1": 100,
            "+Inf": 100,
        }
        name = "mlgitops_serve_request_duration_seconds_bucket"
        return [
            {
                "series": name + _labels({**self.labels, "route": ROUTE["route"], "le": le}),
                "values": f"0+{n}x15",
            }
            for le, n in buckets.items()
        ]

    def predictions(self, shares: dict[str, int]) -> list[dict[str, str]]:
        name = "mlgitops_model_prediction_bin_total"
        return [
            {
                "series": name
                + _labels({**self.labels, "model": "iris-classifier", "output": "label", "bin": b}),
                "values": f"0+{n}x15",
            }
            for b, n in shares.items()
        ]


STABLE_MIX = {"0": 300, "1": 340, "2": 360}


def _scenario(controller: str, case: str) -> list[dict[str, str]]:
    canary, stable = Pods(controller, "canary"), Pods(controller, "stable")
    # The stable side is bad at everything but predictions: only the canary is judged.
    series = stable.requests(ok=500, errors=500) + stable.latency(slow=True)
    series += stable.predictions(STABLE_MIX)
    series += canary.requests(ok=100, errors=20 if case == "errors" else 0)
    series += canary.latency(slow=case == "slow")
    shifted = {"1": 10, "2": 90}  # bin "0" never predicted: the floor keeps PSI finite
    series += canary.predictions(shifted if case == "shifted" else {"0": 31, "1": 33, "2": 36})
    return series


def _queries(spec: Resolved, controller: str) -> dict[str, AnalysisMetric]:
    if controller == FLAGGER:
        flagger = replace(spec, environment=replace(spec.environment, progressive_delivery=FLAGGER))
        rendered = metric_templates(flagger)
        metrics = analysis_metrics(flagger, flagger_sides(flagger))
        assert [t["spec"]["query"] for t in rendered.values()] == [m.query for m in metrics]
        return {m.name: m for m in metrics}
    template = analysis_template(spec)
    rendered_queries = [m["provider"]["prometheus"]["query"] for m in template["spec"]["metrics"]]
    metrics = analysis_metrics(spec, argo_sides(spec))
    assert rendered_queries == [m.query for m in metrics]
    # What Argo Rollouts does with the step's args before it sends the query.
    return {
        m.name: replace(
            m,
            query=m.query.replace("{{args.canary-hash}}", CANARY_HASH).replace(
                "{{args.stable-hash}}", STABLE_HASH
            ),
        )
        for m in metrics
    }


def _promtool(tmp_path: Path, tests: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    return run_rule_tests([], tmp_path, tests)


# scenario -> the checks that must fail on it (all others must pass)
SCENARIOS = {
    "healthy": set(),
    "errors": {ERROR_RATIO},
    "slow": {LATENCY_P99},
    "shifted": {PREDICTION_PSI},
}


def _tests(spec: Resolved, controller: str, invert: bool = False) -> list[dict[str, Any]]:
    queries = _queries(spec, controller)
    assert set(queries) == set(CHECKS)
    tests = []
    for case, failing in SCENARIOS.items():
        expressions = []
        for name in CHECKS:
            metric = queries[name]
            passes = name not in failing
            if invert:
                passes = not passes
            # 1: the controller's condition (result < limit) holds; 0: the step fails.
            expressions.append(
                {
                    "expr": f"({metric.query}) < bool {metric.limit:g}",
                    "eval_time": "12m",
                    "exp_samples": [{"labels": "{}", "value": 1 if passes else 0}],
                }
            )
        tests.append(
            {
                "interval": "1m",
                "input_series": _scenario(controller, case),
                "promql_expr_test": expressions,
            }
        )
    return tests


@pytest.mark.parametrize("controller", ["argo-rollouts", FLAGGER])
def test_healthy_canary_passes_and_each_fault_fails_its_check(
    iris: Resolved, controller: str, tmp_path: Path
) -> None:
    done = _promtool(tmp_path, _tests(iris, controller))

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "Unit Testing:  tests.yaml\n  SUCCESS\n\n"


@pytest.mark.parametrize("controller", ["argo-rollouts", FLAGGER])
def test_the_opposite_verdicts_are_refused(iris: Resolved, controller: str, tmp_path: Path) -> None:
    """Every expectation flipped: promtool must reject each one, so the test above cannot
    pass by comparing nothing."""
    done = _promtool(tmp_path, _tests(iris, controller, invert=True))

    assert done.returncode == 1
    assert (done.stdout + done.stderr).count("expr:") == len(SCENARIOS) * len(CHECKS)


def test_psi_of_the_shifted_canary_is_the_textbook_value(iris: Resolved, tmp_path: Path) -> None:
    """PSI computed by hand from the shares the series give (canary 0/10/90 with the 1e-4
    floor, stable 300/340/360 of 1000: 2.40 + 0.29 + 0.49) equals what Prometheus computes."""
    import math

    canary = [0.0001, 0.1, 0.9]
    stable = [0.3, 0.34, 0.36]
    expected = sum((c - s) * math.log(c / s) for c, s in zip(canary, stable, strict=True))
    query = _queries(iris, "argo-rollouts")[PREDICTION_PSI].query
    test = {
        "interval": "1m",
        "input_series": _scenario("argo-rollouts", "shifted"),
        "promql_expr_test": [
            {
                "expr": query,
                "eval_time": "12m",
                "exp_samples": [{"labels": "{}", "value": expected}],
            }
        ],
    }
    done = _promtool(tmp_path, [test])

    assert done.returncode == 0, done.stdout + done.stderr
    assert expected == pytest.approx(3.19, abs=0.01)
