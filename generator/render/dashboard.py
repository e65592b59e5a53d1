"""A Grafana dashboard per model and environment, as a ConfigMap that the Grafana sidecar
(``grafana_dashboard: "1"`` label, the kube-prometheus-stack convention) loads by itself.

The dashboard JSON is built as data and serialised once, with sorted keys, so regeneration is
byte-identical and a changed panel shows as a small diff in review.
"""

from __future__ import annotations

import json
from typing import Any

from generator.render.drift import drift_panels
from generator.render.labels import model_labels
from generator.render.monitoring import (
    INFERENCE_DURATION,
    INFERENCE_ROUTES,
    MODEL_READY,
    REQUEST_DURATION,
    REQUESTS,
    RESTARTS,
    pod_selector,
    scrape_selector,
)
from generator.resolve import Resolved

Object = dict[str, Any]

DASHBOARD_FILE = "dashboard.yaml"
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
GPU_UTILISATION = "DCGM_FI_DEV_GPU_UTIL"  # NVIDIA dcgm-exporter


def _panel(index: int, title: str, unit: str, targets: list[tuple[str, str]]) -> Object:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
            for n, (expr, legend) in enumerate(targets)
        ],
    }


def panels(spec: Resolved) -> list[Object]:
    inference = scrape_selector(spec, route="~" + INFERENCE_ROUTES)
    errors = scrape_selector(spec, route="~" + INFERENCE_ROUTES, status="~5..")
    scraped = scrape_selector(spec)
    namespace = spec.environment.namespace
    window = "$__rate_interval"
    quantiles = [
        (
            f"histogram_quantile({q}, sum by (le) "
            f"(rate({REQUEST_DURATION}_bucket{{{inference}}}[{window}])))",
            f"p{round(q * 100)}",
        )
        for q in (0.5, 0.9, 0.99)
    ]
    specs: list[tuple[str, str, list[tuple[str, str]]]] = [
        (
            "Requests per second",
            "reqps",
            [
                (
                    f"sum by (route, status) (rate({REQUESTS}{{{scraped}}}[{window}]))",
                    "{{route}} {{status}}",
                )
            ],
        ),
        (
            "5xx error ratio",
            "percentunit",
            [
                (
                    f"sum(rate({REQUESTS}{{{errors}}}[{window}])) / "
                    f"sum(rate({REQUESTS}{{{inference}}}[{window}]))",
                    "errors",
                ),
                (f"vector({spec.slo_error_ratio:g})", "SLO"),
            ],
        ),
        (
            "Request latency",
            "s",
            [*quantiles, (f"vector({spec.slo_latency_p99_ms / 1000:g})", "p99 SLO")],
        ),
        (
            "Inference time (ONNX Runtime)",
            "s",
            [
                (
                    f"histogram_quantile({q}, sum by (le) "
                    f"(rate({INFERENCE_DURATION}_bucket{{{scraped}}}[{window}])))",
                    f"p{round(q * 100)}",
                )
                for q in (0.5, 0.99)
            ],
        ),
        (
            "Replicas",
            "short",
            [
                (f"count(up{{{scraped}}} == 1)", "scraped"),
                (f"sum({MODEL_READY}{{{scraped}}})", "ready"),
                (
                    f"sum({RESTARTS}{{{pod_selector(spec)}}})",
                    "restarts",
                ),
            ],
        ),
    ]
    specs += drift_panels(spec)
    if spec.gpus:
        specs.append(
            (
                "GPU utilisation",
                "percent",
                [
                    (
                        f'avg by (pod) ({GPU_UTILISATION}{{namespace="{namespace}", '
                        f'pod=~"{spec.model}-[a-z0-9]+-[a-z0-9]+"}})',
                        "{{pod}}",
                    )
                ],
            )
        )
    return [_panel(i, title, unit, targets) for i, (title, unit, targets) in enumerate(specs)]


def dashboard(spec: Resolved) -> Object:
    env = spec.environment.name
    return {
        "uid": f"mlgitops-{env}-{spec.model}"[:40],
        "title": f"{spec.model} ({env})",
        "tags": ["mlgitops", env, spec.owner],
        "timezone": "browser",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": panels(spec),
    }


def render_dashboard(spec: Resolved) -> dict[str, Object]:
    """File name -> object: the dashboard ConfigMap, where the environment wants one."""
    if not spec.environment.monitoring.grafana_dashboards:
        return {}
    return {DASHBOARD_FILE: dashboard_config_map(spec)}


def dashboard_config_map(spec: Resolved) -> Object:
    labels = {**model_labels(spec.model, spec.owner, spec.version), **DASHBOARD_LABEL}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{spec.model}-dashboard", "labels": labels},
        "data": {
            f"{spec.model}.json": json.dumps(dashboard(spec), indent=2, sort_keys=True) + "\n"
        },
    }
