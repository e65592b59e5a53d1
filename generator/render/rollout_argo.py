"""Argo Rollouts: a canary ``Rollout`` that references the model's Deployment (``workloadRef``),
and the ``AnalysisTemplate`` each step runs.

Why ``workloadRef`` rather than a Rollout with its own pod template: the Deployment in the base
stays the one description of the pod. Kustomize patches it by container name (the node pool,
GPU and Fluentd components, resources), which it cannot do inside a Rollout's template, whose
schema it does not know; and moving between rolling and canary changes no pod template, so no
pod restarts for the switch itself. Argo Rollouts scales the Deployment down progressively as the
Rollout's pods become ready (``scaleDown: progressively``), so the switch has no gap.

Without a traffic router, Argo Rollouts approximates a step's weight by the share of canary
pods behind the model's Service. A failed analysis aborts the rollout: the stable ReplicaSet
is scaled back up and the canary's down.
"""

from __future__ import annotations

from typing import Any

from generator.render.canary_analysis import Sides, analysis_metrics
from generator.render.labels import model_labels, selector
from generator.resolve import Resolved

Object = dict[str, Any]
API_VERSION = "argoproj.io/v1alpha1"
ROLLOUT_FILE = "rollout.yaml"
ANALYSIS_FILE = "analysistemplate.yaml"
POD_TEMPLATE_HASH = "rollouts-pod-template-hash"
# The Prometheus Operator turns a pod label into a series label by replacing what a label name
# may not hold with "_" (its sanitizeLabelName).
HASH_SERIES_LABEL = POD_TEMPLATE_HASH.replace("-", "_")
PROGRESS_DEADLINE_SECONDS = 600


def analysis_template_name(spec: Resolved) -> str:
    return f"{spec.model}-canary"


def argo_sides(spec: Resolved) -> Sides:
    scraped = f'namespace="{spec.environment.namespace}", service="{spec.model}"'
    return Sides(
        canary=f'{scraped}, {HASH_SERIES_LABEL}="{{{{args.canary-hash}}}}"',
        stable=f'{scraped}, {HASH_SERIES_LABEL}="{{{{args.stable-hash}}}}"',
    )


def _steps(spec: Resolved) -> list[Object]:
    analysis = {
        "templates": [{"templateName": analysis_template_name(spec)}],
        "args": [
            {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
            {"name": "stable-hash", "valueFrom": {"podTemplateHashValue": "Stable"}},
        ],
    }
    steps: list[Object] = []
    for weight in spec.rollout.steps:
        steps += [
            {"setWeight": weight},
            {"pause": {"duration": spec.rollout.step_duration}},
            {"analysis": analysis},
        ]
    return steps


def rollout(spec: Resolved) -> Object:
    return {
        "apiVersion": API_VERSION,
        "kind": "Rollout",
        "metadata": {
            "name": spec.model,
            "labels": model_labels(spec.model, spec.owner, spec.version),
        },
        "spec": {
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            "progressDeadlineAbort": True,
            "selector": {"matchLabels": selector(spec.model)},
            "workloadRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": spec.model,
                "scaleDown": "progressively",
            },
            "strategy": {
                "canary": {
                    "maxSurge": spec.rollout.max_surge,
                    "maxUnavailable": spec.rollout.max_unavailable,
                    "steps": _steps(spec),
                }
            },
        },
    }


def analysis_template(spec: Resolved) -> Object:
    address = spec.environment.monitoring.prometheus_address
    return {
        "apiVersion": API_VERSION,
        "kind": "AnalysisTemplate",
        "metadata": {
            "name": analysis_template_name(spec),
            "labels": model_labels(spec.model, spec.owner, spec.version),
        },
        "spec": {
            "args": [{"name": "canary-hash"}, {"name": "stable-hash"}],
            "metrics": [
                {
                    "name": metric.name,
                    # One measurement after the step's pause; its range covers the pause.
                    "count": 1,
                    "failureLimit": 0,
                    "successCondition": f"result[0] < {metric.limit:g}",
                    "provider": {"prometheus": {"address": address, "query": metric.query}},
                }
                for metric in analysis_metrics(spec, argo_sides(spec))
            ],
        },
    }


def hpa_target_patch(spec: Resolved) -> Object:
    """The autoscaler follows the workload: it scales the Rollout, not the idle Deployment."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": spec.model},
        "spec": {
            "scaleTargetRef": {"apiVersion": API_VERSION, "kind": "Rollout", "name": spec.model}
        },
    }


def render_argo(spec: Resolved) -> dict[str, Object]:
    """File name -> object for the overlay of a canary model under Argo Rollouts."""
    return {ROLLOUT_FILE: rollout(spec), ANALYSIS_FILE: analysis_template(spec)}
