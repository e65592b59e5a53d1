"""Flagger: a ``Canary`` for the model's Deployment and one ``MetricTemplate`` per check.

Flagger copies the Deployment into ``<model>-primary`` (the stable version, whose pods it labels
``app.kubernetes.io/name: <model>-primary``), runs new versions in the original Deployment, and
creates the Services ``<model>``, ``<model>-primary`` and ``<model>-canary`` itself. So the
overlay leaves the apex Service to Flagger (a Service of ours with that name would be rewritten
by Flagger and reverted by the GitOps controller, over and over), adds a PDB for the primary's
pods, and widens the NetworkPolicy to both sets of pods.

Weighted steps need a mesh or ingress provider in Flagger (its ``meshProvider``); with the
plain ``kubernetes`` provider Flagger runs the same analysis as a blue/green iteration.
"""

from __future__ import annotations

from typing import Any

from generator.render.canary_analysis import Sides, analysis_metrics, window
from generator.render.labels import NAME_LABEL, model_labels
from generator.resolve import Resolved

Object = dict[str, Any]
API_VERSION = "flagger.app/v1beta1"
CANARY_FILE = "canary.yaml"
PRIMARY_PDB_FILE = "pdb-primary.yaml"
PROGRESS_DEADLINE_SECONDS = 600


def primary_name(spec: Resolved) -> str:
    return f"{spec.model}-primary"


def canary_service(spec: Resolved) -> str:
    return f"{spec.model}-canary"


def flagger_sides(spec: Resolved) -> Sides:
    namespace = f'namespace="{spec.environment.namespace}"'
    return Sides(
        canary=f'{namespace}, service="{canary_service(spec)}"',
        stable=f'{namespace}, service="{primary_name(spec)}"',
    )


def metric_template_name(spec: Resolved, metric: str) -> str:
    return f"{spec.model}-{metric}"


def metric_templates(spec: Resolved) -> dict[str, Object]:
    """File name -> MetricTemplate, one per check."""
    address = spec.environment.monitoring.prometheus_address
    return {
        f"metrictemplate-{metric.name}.yaml": {
            "apiVersion": API_VERSION,
            "kind": "MetricTemplate",
            "metadata": {
                "name": metric_template_name(spec, metric.name),
                "labels": model_labels(spec.model, spec.owner, spec.version),
            },
            "spec": {
                "provider": {"type": "prometheus", "address": address},
                "query": metric.query,
            },
        }
        for metric in analysis_metrics(spec, flagger_sides(spec))
    }


def canary(spec: Resolved) -> Object:
    step = window(spec)
    return {
        "apiVersion": API_VERSION,
        "kind": "Canary",
        "metadata": {
            "name": spec.model,
            "labels": model_labels(spec.model, spec.owner, spec.version),
        },
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.model},
            "autoscalerRef": {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "name": spec.model,
            },
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            # portDiscovery: Flagger's Services also carry the pod's other ports (gRPC).
            "service": {
                "port": 80,
                "targetPort": "http",
                "portName": "http",
                "portDiscovery": True,
            },
            "analysis": {
                "interval": step,
                # One failed check aborts, as in Argo Rollouts (failureLimit 0).
                "threshold": 1,
                "stepWeights": list(spec.rollout.steps),
                "metrics": [
                    {
                        "name": metric.name,
                        "templateRef": {"name": metric_template_name(spec, metric.name)},
                        "thresholdRange": {"max": metric.limit},
                        "interval": step,
                    }
                    for metric in analysis_metrics(spec, flagger_sides(spec))
                ],
            },
        },
    }


def primary_disruption_budget(spec: Resolved) -> Object:
    """The base's PDB guards the canary's pods; this one the primary's, which serve."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": primary_name(spec),
            "labels": model_labels(spec.model, spec.owner, spec.version),
        },
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {NAME_LABEL: primary_name(spec)}},
        },
    }


def both_pods(spec: Resolved) -> Object:
    """A label selector for the canary's pods and the primary's."""
    pods = [spec.model, primary_name(spec)]
    return {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": pods}]}


def flagger_patches(spec: Resolved) -> list[Object]:
    """The apex Service goes to Flagger; the NetworkPolicy admits traffic to the primary's pods
    and the canary's."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": spec.model},
            "$patch": "delete",
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": spec.model},
            "spec": {
                "podSelector": {"$patch": "replace", **both_pods(spec)},
            },
        },
    ]


def render_flagger(spec: Resolved) -> dict[str, Object]:
    """File name -> object for the overlay of a canary model under Flagger."""
    return {
        CANARY_FILE: canary(spec),
        PRIMARY_PDB_FILE: primary_disruption_budget(spec),
        **metric_templates(spec),
    }
