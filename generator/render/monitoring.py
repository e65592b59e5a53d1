"""Per-model observability for the Prometheus Operator: a ServiceMonitor that scrapes the
server's ``/metrics`` and a PrometheusRule with the model's SLO alerts.

They live in the environment's overlay, not in the base: they need the operator's CRDs, which
only some environments have, and their queries name the environment's namespace. The metric
names are the model server's (``serving/metrics.py``).
"""

from __future__ import annotations

from typing import Any

from generator.render.labels import NAME_LABEL, SERVER_CONTAINER, model_labels, selector
from generator.resolve import Resolved
from generator.rollout import ARGO_ROLLOUTS, FLAGGER, canary_controller

Object = dict[str, Any]

REQUESTS = "mlgitops_serve_requests_total"
REQUEST_DURATION = "mlgitops_serve_request_duration_seconds"
INFERENCE_DURATION = "mlgitops_serve_inference_duration_seconds"
MODEL_READY = "mlgitops_serve_model_ready"
EXECUTION_PROVIDER = "mlgitops_serve_execution_provider"
GPU_PROVIDER = "CUDAExecutionProvider"
RESTARTS = "kube_pod_container_status_restarts_total"  # kube-state-metrics
# Routes that run the model (Open Inference Protocol, KServe v1, /predict): the SLOs are about
# these, not about health checks and scrapes.
INFERENCE_ROUTES = ".*/infer|.*:predict|/predict"
RATE_WINDOW = "5m"
SERVICE_MONITOR_FILE = "servicemonitor.yaml"
PROMETHEUS_RULE_FILE = "prometheusrule.yaml"


def scrape_selector(spec: Resolved, **extra: str) -> str:
    """PromQL label matchers of the model's scraped series: the Prometheus Operator adds
    ``namespace`` and ``service`` (the Service is named after the model)."""
    matchers = {"namespace": spec.environment.namespace, "service": _service(spec), **extra}
    return ", ".join(
        f'{key}=~"{value[1:]}"' if value.startswith("~") else f'{key}="{value}"'
        for key, value in matchers.items()
    )


def _controller(spec: Resolved) -> str | None:
    return canary_controller(spec.rollout, spec.environment.progressive_delivery)


def _service(spec: Resolved) -> str:
    """The Services the model's pods are scraped through: under Flagger, the primary and
    canary Services it creates (``~`` marks a regular expression)."""
    return f"~{spec.model}-(primary|canary)" if _controller(spec) == FLAGGER else spec.model


def _scrape_targets(spec: Resolved) -> Object:
    """The ServiceMonitor's selector, and the pod labels it copies onto the series: Argo
    Rollouts' pod template hash tells the canary's series from the stable ones."""
    controller = _controller(spec)
    if controller == FLAGGER:
        names = [f"{spec.model}-primary", f"{spec.model}-canary"]
        expression = {"key": NAME_LABEL, "operator": "In", "values": names}
        return {"selector": {"matchExpressions": [expression]}}
    targets: Object = {"selector": {"matchLabels": selector(spec.model)}}
    if controller == ARGO_ROLLOUTS:
        targets["podTargetLabels"] = ["rollouts-pod-template-hash"]
    return targets


def pod_selector(spec: Resolved) -> str:
    """Matchers for kube-state-metrics series of the model's pods (Deployment pod names)."""
    return (
        f'namespace="{spec.environment.namespace}", '
        f'pod=~"{spec.model}{"(-primary)?" if _controller(spec) == FLAGGER else ""}'
        f'-[a-z0-9]+-[a-z0-9]+", container="{SERVER_CONTAINER}"'
    )


def service_monitor(spec: Resolved) -> Object:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {
            "name": spec.model,
            "labels": model_labels(spec.model, spec.owner, spec.version),
        },
        "spec": {
            **_scrape_targets(spec),
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }


def error_ratio_expr(spec: Resolved) -> str:
    inference = scrape_selector(spec, route="~" + INFERENCE_ROUTES)
    errors = scrape_selector(spec, route="~" + INFERENCE_ROUTES, status="~5..")
    return (
        f"sum(rate({REQUESTS}{{{errors}}}[{RATE_WINDOW}]))\n"
        f"  / sum(rate({REQUESTS}{{{inference}}}[{RATE_WINDOW}]))\n"
        f"  > {spec.slo_error_ratio:g}"
    )


def latency_p99_expr(spec: Resolved) -> str:
    inference = scrape_selector(spec, route="~" + INFERENCE_ROUTES)
    return (
        "histogram_quantile(0.99,\n"
        f"  sum by (le) (rate({REQUEST_DURATION}_bucket{{{inference}}}[{RATE_WINDOW}])))\n"
        f"  > {spec.slo_latency_p99_ms / 1000:g}"
    )


def not_ready_expr(spec: Resolved) -> str:
    scraped = scrape_selector(spec)
    return (
        f"max by (namespace, service, pod) ({MODEL_READY}{{{scraped}}}) < 1\n"
        f"  or absent({MODEL_READY}{{{scraped}}})"
    )


def off_gpu_expr(spec: Resolved) -> str:
    """A replica of a GPU deployment whose CUDA provider is not the one running the model."""
    scraped = scrape_selector(spec, provider=GPU_PROVIDER)
    return f"max by (namespace, service, pod) ({EXECUTION_PROVIDER}{{{scraped}}}) < 1"


def restarts_expr(spec: Resolved) -> str:
    return f"increase({RESTARTS}{{{pod_selector(spec)}}}[30m]) > 2"


def alert_rule(
    spec: Resolved, name: str, expr: str, duration: str, severity: str, summary: str
) -> Object:
    """One alerting rule, labelled with the model, its owner and the environment."""
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {
            "severity": severity,
            "model": spec.model,
            "owner": spec.owner,
            "environment": spec.environment.name,
        },
        "annotations": {"summary": summary},
    }


def rule_groups(spec: Resolved) -> list[Object]:
    """The alert rules, also what ``promtool`` checks in the tests."""
    model, env = spec.model, spec.environment.name
    gpu: list[Object] = []
    if spec.accelerator == "gpu":
        # Not ready is the consequence (unless spec.server.allowCpuFallback); this is the cause.
        gpu.append(
            alert_rule(
                spec,
                "MLModelNotOnGpu",
                off_gpu_expr(spec),
                "5m",
                "warning",
                f"{model} in {env}: a replica holds a GPU but its CUDA execution provider is not "
                "active; it computes on the CPU or not at all (see the server log)",
            )
        )
    return [
        {
            "name": f"mlgitops.{model}",
            "rules": [
                alert_rule(
                    spec,
                    "MLModelNotReady",
                    not_ready_expr(spec),
                    "5m",
                    "critical",
                    f"{model} in {env}: a replica has not had the model loaded for 5 minutes, "
                    "or no replica is scraped at all",
                ),
                alert_rule(
                    spec,
                    "MLModelErrorRatioHigh",
                    error_ratio_expr(spec),
                    "5m",
                    "critical",
                    f"{model} in {env}: more than {spec.slo_error_ratio:.2%} of inference "
                    "requests fail with 5xx (spec.slo.errorRatio)",
                ),
                alert_rule(
                    spec,
                    "MLModelLatencyP99High",
                    latency_p99_expr(spec),
                    "10m",
                    "warning",
                    f"{model} in {env}: p99 inference latency above "
                    f"{spec.slo_latency_p99_ms} ms (spec.slo.latencyP99Ms)",
                ),
                alert_rule(
                    spec,
                    "MLModelPodsRestarting",
                    restarts_expr(spec),
                    "1m",
                    "warning",
                    f"{model} in {env}: a server container restarted more than twice in 30 minutes",
                ),
                *gpu,
            ],
        }
    ]


def prometheus_rule(spec: Resolved) -> Object:
    from generator.render.drift import drift_rule_groups  # it builds on this module

    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": spec.model,
            "labels": model_labels(spec.model, spec.owner, spec.version),
        },
        "spec": {"groups": rule_groups(spec) + drift_rule_groups(spec)},
    }


def render_monitoring(spec: Resolved) -> dict[str, Object]:
    """File name -> object: the Prometheus Operator objects, where the environment has it."""
    if not spec.environment.monitoring.prometheus_operator:
        return {}
    return {
        SERVICE_MONITOR_FILE: service_monitor(spec),
        PROMETHEUS_RULE_FILE: prometheus_rule(spec),
    }
