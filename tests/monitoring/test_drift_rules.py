"""The drift and accuracy rules, evaluated by ``promtool test rules`` on counter series built
from samples as the server counts them (`serving.drift.DriftMonitor`): the PSI Prometheus
records equals numpy's PSI of the same samples against the same profile within 1e-6, and
the alerts fire on shifted traffic and wrong ground truth, and stay quiet on reference traffic.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import yaml

from generator.layout import RepoLayout
from generator.monitoring.psi import EPSILON, psi
from generator.pipeline import make_plan
from generator.render.drift import drift_rule_groups
from generator.resolve import Resolved
from serving.drift import OTHER_CLASS, DriftMonitor, parse_profile
from tests.monitoring.promtool import promtool, run_rule_tests

PROJECT = Path(__file__).resolve().parents[2]
MODEL_DIR = PROJECT / "models" / "iris-classifier"
SCRAPE = {"namespace": "ml-prod", "service": "iris-classifier", "pod": "iris-classifier-a-b"}
MINUTES = 60
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def iris() -> Resolved:
    plan = make_plan(RepoLayout(PROJECT), {"iris-classifier"})
    assert plan.ok, plan.problems
    return next(
        d for d in plan.deployments if d.model == "iris-classifier" and d.environment.name == "prod"
    )


@pytest.fixture(scope="module")
def profile() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MODEL_DIR / "profile.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    return ort.InferenceSession(str(MODEL_DIR / "model.onnx"))


def reference_rows() -> np.ndarray:
    return np.loadtxt(MODEL_DIR / "reference.csv", delimiter=",", skiprows=1, dtype=np.float32)


def traffic(shift: float, rows: int = 600, seed: int = 7) -> np.ndarray:
    """Rows drawn from the reference data; ``shift`` moves the petal measurements (features 2
    and 3) by that many centimetres."""
    rng = np.random.default_rng(seed)
    drawn = reference_rows()[rng.integers(0, 112, rows)].copy()
    drawn[:, 2:] += shift
    return drawn


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def counter_series(
    samples: np.ndarray, session: ort.InferenceSession, profile: dict[str, Any]
) -> list[dict[str, str]]:
    """Cumulative counters, one value a minute from 0 at minute 0: the samples arrive in 60
    equal batches and are counted by the server's own DriftMonitor."""
    monitor = DriftMonitor("iris-classifier", parse_profile(json.dumps(profile)))
    batches = np.array_split(samples, MINUTES)
    per_minute = []
    for batch in batches:
        label, probabilities = session.run(None, {"input": batch})
        per_minute.append(
            monitor.counts([({"input": batch}, {"label": label, "probabilities": probabilities})])
        )
    cumulative = np.vstack([np.zeros_like(per_minute[0]), np.cumsum(per_minute, axis=0)])
    series = []
    slot = 0
    for kind, metric, label in (
        ("features", "mlgitops_model_input_bin_total", "feature"),
        ("outputs", "mlgitops_model_prediction_bin_total", "output"),
    ):
        for dist in profile[kind]:
            bins = (
                [*dist["classes"], OTHER_CLASS]
                if "classes" in dist
                else [str(i) for i in range(len(dist["edges"]) + 1)]
            )
            reference = [*dist["proportions"], 0.0] if "classes" in dist else dist["proportions"]
            for bin_label, share in zip(bins, reference, strict=True):
                labels = {
                    **SCRAPE,
                    "model": "iris-classifier",
                    label: dist["name"],
                    "bin": bin_label,
                }
                values = " ".join(str(int(v)) for v in cumulative[:, slot])
                series.append({"series": metric + _labels(labels), "values": values})
                series.append(
                    {
                        "series": "mlgitops_model_reference_proportion" + _labels(labels),
                        "values": f"{share!r}x{MINUTES}",
                    }
                )
                slot += 1
    return series


def numpy_psi(values: np.ndarray, dist: dict[str, Any]) -> float:
    """Independent of the server's binning: numpy.digitize puts x in bin i when
    edges[i-1] <= x < edges[i], the profile's definition; classes by equality."""
    if "classes" in dist:
        labels = [str(v) for v in values.tolist()]
        counts = [labels.count(c) for c in dist["classes"]]
        counts.append(len(labels) - sum(counts))
        return psi(counts, [*dist["proportions"], 0.0])
    bins = np.digitize(values, np.asarray(dist["edges"]), right=False)
    return psi(np.bincount(bins, minlength=len(dist["edges"]) + 1), dist["proportions"])


def expected_psi(
    samples: np.ndarray, session: ort.InferenceSession, profile: dict[str, Any]
) -> dict[tuple[str, str], float]:
    label, probabilities = session.run(None, {"input": samples})
    columns = {"label": label, **{f"probabilities[{j}]": probabilities[:, j] for j in range(3)}}
    result = {}
    for j, dist in enumerate(profile["features"]):
        result[("feature", dist["name"])] = numpy_psi(samples[:, j], dist)
    for dist in profile["outputs"]:
        result[("output", dist["name"])] = numpy_psi(columns[dist["name"]], dist)
    return result


def run_promtool(
    iris: Resolved, tmp_path: Path, tests: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    return run_rule_tests(drift_rule_groups(iris), tmp_path, tests)


def psi_test(
    series: list[dict[str, str]], expected: dict[tuple[str, str], float]
) -> dict[str, Any]:
    """numpy's values travel as series ``numpy_psi``; Prometheus checks each recorded PSI
    against its numpy value within 1e-6 (promtool itself compares samples exactly)."""
    given = []
    exprs = []
    for kind, record in (("feature", "input"), ("output", "prediction")):
        names = sorted(name for k, name in expected if k == kind)
        for name in names:
            labels = {"namespace": "ml-prod", "model": "iris-classifier", kind: name}
            given.append(
                {
                    "series": f"numpy_{record}_psi" + _labels(labels),
                    "values": f"{expected[(kind, name)]!r}x{MINUTES}",
                }
            )
        exprs.append(
            {
                "expr": (
                    f"abs(mlgitops:{record}_drift_psi - on (namespace, model, {kind}) "
                    f"numpy_{record}_psi) <= bool {TOLERANCE:g}"
                ),
                "eval_time": f"{MINUTES}m",
                "exp_samples": [
                    {
                        "labels": _labels(
                            {kind: name, "model": "iris-classifier", "namespace": "ml-prod"}
                        ),
                        "value": 1,
                    }
                    for name in names
                ],
            }
        )
    return {"interval": "1m", "input_series": series + given, "promql_expr_test": exprs}


@pytest.mark.parametrize("shift", [0.0, 0.8], ids=["reference", "shifted"])
def test_prometheus_psi_equals_numpy_psi(
    iris: Resolved,
    profile: dict[str, Any],
    session: ort.InferenceSession,
    tmp_path: Path,
    shift: float,
) -> None:
    samples = traffic(shift)
    expected = expected_psi(samples, session, profile)
    done = run_promtool(
        iris, tmp_path, [psi_test(counter_series(samples, session, profile), expected)]
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert len(expected) == 8
    if shift:
        assert max(expected[("feature", "petal_length_cm")], expected[("output", "label")]) > 0.2
    else:
        assert max(expected.values()) < 0.2


def test_promtool_compares_psi_to_within_1e_6(
    iris: Resolved, profile: dict[str, Any], session: ort.InferenceSession, tmp_path: Path
) -> None:
    """The comparison above can fail: numpy's PSI off by 1e-5 is reported as a mismatch."""
    samples = traffic(0.8)
    expected = {k: v + 1e-5 for k, v in expected_psi(samples, session, profile).items()}
    done = run_promtool(
        iris, tmp_path, [psi_test(counter_series(samples, session, profile), expected)]
    )

    assert done.returncode == 1
    assert "abs(mlgitops:input_drift_psi" in done.stdout + done.stderr
    assert "abs(mlgitops:prediction_drift_psi" in done.stdout + done.stderr


def test_epsilon_stands_in_for_empty_bins() -> None:
    """All traffic in one bin: every other bin's share is EPSILON, not 0 (ln would be -inf)."""
    value = psi([10, 0], [0.5, 0.5])
    a, e = np.array([1.0, EPSILON]), np.array([0.5, 0.5])
    assert value == pytest.approx(float(np.sum((a - e) * np.log(a / e))), abs=1e-12)
    assert math.isfinite(psi([0, 7], [1.0, 0.0]))


def _alert_test(
    series: list[dict[str, str]], alert: str, expected: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": f"{MINUTES}m", "alertname": alert, "exp_alerts": expected}
        ],
    }


def _fired(output: str) -> set[str]:
    return set(re.findall(r"alertname: (\w+)", output))


def test_drift_alerts_fire_on_shifted_traffic_only(
    iris: Resolved, profile: dict[str, Any], session: ort.InferenceSession, tmp_path: Path
) -> None:
    quiet = counter_series(traffic(0.0), session, profile)
    shifted = counter_series(traffic(0.8), session, profile)
    tests = [
        _alert_test(quiet, "ModelInputDrift", []),
        _alert_test(quiet, "ModelPredictionDrift", []),
        # Expect nothing on the shifted series: promtool must then name both alerts as firing.
        _alert_test(shifted, "ModelInputDrift", []),
        _alert_test(shifted, "ModelPredictionDrift", []),
    ]
    done = run_promtool(iris, tmp_path, tests)

    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert out.count("alertname: ModelInputDrift") == 1
    assert out.count("alertname: ModelPredictionDrift") == 1
    assert 'feature="petal_length_cm"' in out
    assert 'feature="sepal_length_cm"' not in out


FEEDBACK = "mlgitops_model_feedback_total"


def _feedback(correct: str | None, incorrect: str) -> list[dict[str, str]]:
    base = {**SCRAPE, "model": "iris-classifier", "output": "label"}
    series = [{"series": FEEDBACK + _labels({**base, "outcome": "incorrect"}), "values": incorrect}]
    if correct is not None:
        series.append(
            {"series": FEEDBACK + _labels({**base, "outcome": "correct"}), "values": correct}
        )
    return series


@pytest.mark.parametrize(
    ("correct", "incorrect", "fires"),
    [
        ("0+95x60", "0+5x60", False),
        ("0+50x60", "0+50x60", True),
        (None, "0+3x60", True),  # only wrong answers: no "correct" series at all
    ],
    ids=["95-percent", "50-percent", "all-wrong"],
)
def test_accuracy_alert(
    iris: Resolved, tmp_path: Path, correct: str | None, incorrect: str, fires: bool
) -> None:
    rule = next(
        r
        for g in drift_rule_groups(iris)
        for r in g["rules"]
        if r.get("alert") == "ModelAccuracyLow"
    )
    labels = {
        **rule["labels"],
        "namespace": "ml-prod",
        "model": "iris-classifier",
        "output": "label",
    }
    value = 0.5 if correct and "50" in correct else 0.0
    summary = (
        rule["annotations"]["summary"]
        .replace("{{ $labels.output }}", "label")
        .replace("{{ $value | humanizePercentage }}", f"{value:.0%}")
    )
    expected = [{"exp_labels": labels, "exp_annotations": {"summary": summary}}] if fires else []
    done = run_promtool(
        iris, tmp_path, [_alert_test(_feedback(correct, incorrect), "ModelAccuracyLow", expected)]
    )

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", ["iris-classifier", "diabetes-regressor", "digits-classifier"])
def test_promtool_accepts_the_monitoring_rules_of_every_example(tmp_path: Path, name: str) -> None:
    plan = make_plan(RepoLayout(PROJECT), {name})
    spec = next(d for d in plan.deployments if d.model == name and d.environment.name == "prod")
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": drift_rule_groups(spec)}))

    done = subprocess.run(
        [promtool(), "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )

    # 6 drift records + 2 drift alerts, and the accuracy record and alert where minAccuracy is set
    expected = 10 if spec.slo_min_accuracy is not None else 8
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {expected} rules found" in done.stdout


def test_listed_features_are_matched_exactly_even_with_regex_characters(
    iris: Resolved, tmp_path: Path
) -> None:
    """features: ["input[0]"] watches input[0] only; its brackets are not a character class."""
    spec = replace(iris, drift_features=("input[0]", "a.b"))
    series = []
    for feature in ("input[0]", "input0", "input[1]", "a.b", "axb"):
        for bin_label, values, share in (("0", "0+5x60", "0.5"), ("1", "0+1x60", "0.5")):
            labels = {**SCRAPE, "model": "iris-classifier", "feature": feature, "bin": bin_label}
            series.append(
                {"series": "mlgitops_model_input_bin_total" + _labels(labels), "values": values}
            )
            series.append(
                {
                    "series": "mlgitops_model_reference_proportion" + _labels(labels),
                    "values": f"{share}x60",
                }
            )
    test = {
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [
            {
                "expr": "count by (feature) (mlgitops:input_drift_psi)",
                "eval_time": "60m",
                "exp_samples": [
                    {"labels": _labels({"feature": f}), "value": 1} for f in ("a.b", "input[0]")
                ],
            }
        ],
    }
    done = run_rule_tests(drift_rule_groups(spec), tmp_path, [test])

    assert done.returncode == 0, done.stdout + done.stderr
