"""Model monitoring rules: input and prediction drift (PSI against the reference profile) and
live accuracy from ground truth, recorded and alerted on by the environment's Prometheus.

The server counts requests per profile bin (`serving.drift`) and exports the profile's shares
(``mlgitops_model_reference_proportion``); the rules here turn the last ``window`` of counts
into shares and compare. The population stability index is
``sum_i (a_i - e_i) * ln(a_i / e_i)`` (Yurdakul 2018, eq. 1), both shares first raised to at
least EPSILON, exactly as ``generator.monitoring.psi.psi`` computes it in numpy.

Rules of one group run in order at one evaluation time, each seeing the series recorded before
it, so the shares are recorded once and the PSI reads them.
"""

from __future__ import annotations

import re
from typing import Any

from generator.render.monitoring import alert_rule, scrape_selector
from generator.resolve import Resolved

Object = dict[str, Any]

EPSILON = 1e-4
"""Least share of a bin in the PSI: an empty bin would make ln(a/e) infinite. The numpy PSI
(`generator.monitoring.psi`) uses this same value."""

INPUT_BINS = "mlgitops_model_input_bin_total"
PREDICTION_BINS = "mlgitops_model_prediction_bin_total"
REFERENCE = "mlgitops_model_reference_proportion"
FEEDBACK = "mlgitops_model_feedback_total"
INPUT_PSI = "mlgitops:input_drift_psi"
PREDICTION_PSI = "mlgitops:prediction_drift_psi"
ACCURACY = "mlgitops:feedback_accuracy"
_MODEL = ("namespace", "model")


def _regex_alternatives(names: tuple[str, ...]) -> str:
    """A PromQL (RE2, fully anchored) regex matching exactly ``names``, escaped for a PromQL
    double-quoted string."""
    return "|".join(re.escape(n) for n in names).replace("\\", "\\\\")


def _by(*labels: str) -> str:
    return ", ".join((*_MODEL, *labels))


def share_rules(spec: Resolved, side: str, counter: str, label: str) -> list[Object]:
    """Recording rules of one side (``input`` by feature, ``prediction`` by output): the shares
    of the last window per bin, the reference shares, and the PSI."""
    watched = spec.drift_features if side == "input" else ()
    extra = {label: "~" + _regex_alternatives(watched)} if watched else {}
    selector = scrape_selector(spec, **extra)
    counts = f"increase({counter}{{{selector}}}[{spec.drift_window}])"
    share = f"mlgitops:{side}_bin_share"
    reference = f"mlgitops:{side}_reference_share"
    recorded = f'namespace="{spec.environment.namespace}", model="{spec.model}"'
    return [
        {
            "record": share,
            "expr": (
                f"clamp_min(\n  sum by ({_by(label, 'bin')}) ({counts})\n"
                f"  / ignoring (bin) group_left\n  sum by ({_by(label)}) ({counts}),\n"
                f"  {EPSILON:g}\n)"
            ),
        },
        {
            "record": reference,
            "expr": (
                f"clamp_min(\n  max by ({_by(label, 'bin')}) "
                f'({REFERENCE}{{{scrape_selector(spec, **extra)}, {label}!=""}}),\n'
                f"  {EPSILON:g}\n)"
            ),
        },
        {
            "record": INPUT_PSI if side == "input" else PREDICTION_PSI,
            "expr": (
                f"sum by ({_by(label)}) (\n"
                f"  ({share}{{{recorded}}} - {reference}{{{recorded}}})\n"
                f"  * ln({share}{{{recorded}}} / {reference}{{{recorded}}})\n)"
            ),
        },
    ]


def accuracy_expr(spec: Resolved) -> str:
    """Share of correct predictions among those with ground truth in the window. A window with
    only wrong answers has no ``correct`` increase at all: ``or ... * 0`` makes it 0."""
    window = spec.drift_window

    def increase(outcome: str) -> str:
        selector = scrape_selector(spec, outcome=outcome)
        return f"sum by ({_by('output')}) (increase({FEEDBACK}{{{selector}}}[{window}]))"

    return (
        f"(\n  {increase('correct')}\n  or {increase('incorrect')} * 0\n)\n"
        f"/ {increase('~correct|incorrect')}"
    )


def drift_rule_groups(spec: Resolved) -> list[Object]:
    """The monitoring group (empty when neither drift nor minAccuracy is set)."""
    model, env = spec.model, spec.environment.name
    recorded = f'namespace="{spec.environment.namespace}", model="{spec.model}"'
    rules: list[Object] = []
    if spec.drift_enabled:
        rules += share_rules(spec, "input", INPUT_BINS, "feature")
        rules += share_rules(spec, "prediction", PREDICTION_BINS, "output")
        threshold = f"{spec.drift_psi_threshold:g}"
        for alert, series, label, what in (
            ("ModelInputDrift", INPUT_PSI, "feature", "inputs of feature"),
            ("ModelPredictionDrift", PREDICTION_PSI, "output", "predictions of output"),
        ):
            rule = alert_rule(
                spec,
                alert,
                f"{series}{{{recorded}}} > {threshold}",
                spec.drift_for,
                "warning",
                f"{model} in {env}: the {what} {{{{ $labels.{label} }}}} drifted from the "
                f'reference profile: PSI {{{{ $value | printf "%.3f" }}}} over the last '
                f"{spec.drift_window} (spec.monitoring.drift.psiThreshold {threshold})",
            )
            rules.append(rule)
    if spec.slo_min_accuracy is not None:
        rules.append({"record": ACCURACY, "expr": accuracy_expr(spec)})
        rules.append(
            alert_rule(
                spec,
                "ModelAccuracyLow",
                f"{ACCURACY}{{{recorded}}} < {spec.slo_min_accuracy:g}",
                spec.drift_for,
                "critical",
                f"{model} in {env}: accuracy of {{{{ $labels.output }}}} on ground truth "
                f"{{{{ $value | humanizePercentage }}}} over the last {spec.drift_window}, "
                f"under spec.slo.minAccuracy {spec.slo_min_accuracy:g}",
            )
        )
    if not rules:
        return []
    return [{"name": f"mlgitops.{model}.monitoring", "rules": rules}]


def drift_panels(spec: Resolved) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Dashboard panels (title, unit, [(expr, legend)]): PSI per feature and output, the live
    prediction distribution beside the reference, and accuracy."""
    recorded = f'namespace="{spec.environment.namespace}", model="{spec.model}"'
    panels: list[tuple[str, str, list[tuple[str, str]]]] = []
    if spec.drift_enabled:
        threshold = (f"vector({spec.drift_psi_threshold:g})", "threshold")
        panels += [
            ("Input drift (PSI per feature)", "none", [
                (f"{INPUT_PSI}{{{recorded}}}", "{{feature}}"), threshold,
            ]),
            ("Prediction drift (PSI per output)", "none", [
                (f"{PREDICTION_PSI}{{{recorded}}}", "{{output}}"), threshold,
            ]),
            ("Predictions: live share per class or bin vs reference", "percentunit", [
                (f"mlgitops:prediction_bin_share{{{recorded}}}", "live {{output}} {{bin}}"),
                (
                    f"mlgitops:prediction_reference_share{{{recorded}}}",
                    "reference {{output}} {{bin}}",
                ),
            ]),
        ]  # fmt: skip
    if spec.slo_min_accuracy is not None:
        panels.append(
            (
                "Accuracy on ground truth",
                "percentunit",
                [
                    (f"{ACCURACY}{{{recorded}}}", "{{output}}"),
                    (f"vector({spec.slo_min_accuracy:g})", "minAccuracy"),
                ],
            )
        )
    return panels
