"""The generated ServiceMonitor, PrometheusRule and dashboard: valid against the vendored
Prometheus Operator CRD schemas, accepted by ``promtool check rules``, and each alert evaluated
by ``promtool test rules`` on a series that must fire it and one that must not."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.render.dashboard import dashboard_config_map
from generator.render.monitoring import prometheus_rule, rule_groups, service_monitor
from generator.resolve import Resolved
from generator.verify import crdschema
from tests.monitoring.promtool import promtool, run_rule_tests

PROJECT = Path(__file__).resolve().parents[2]
POD = "iris-classifier-6d4f9c7b8-x2x9z"


@pytest.fixture(scope="module")
def iris(deployments: dict[str, Resolved]) -> Resolved:
    return deployments["prod/iris-classifier"]


def test_examples_turn_monitoring_on_in_staging_and_prod_only(
    deployments: dict[str, Resolved],
) -> None:
    on = sorted(k for k, d in deployments.items() if d.environment.monitoring.prometheus_operator)
    assert on == [
        f"{env}/{model}"
        for env in ("prod", "staging")
        for model in ("diabetes-regressor", "digits-classifier", "iris-classifier")
    ]


def test_objects_are_valid_against_the_vendored_crd_schemas(
    deployments: dict[str, Resolved],
) -> None:
    for spec in deployments.values():
        for obj in (service_monitor(spec), prometheus_rule(spec)):
            assert crdschema.is_custom_resource(obj)
            assert crdschema.object_errors(obj) == []


def test_crd_schema_catches_a_bad_service_monitor(iris: Resolved) -> None:
    broken = service_monitor(iris)
    broken["spec"]["endpoints"][0]["scheme"] = "ftp"
    broken["spec"]["endpoints"][0]["interval"] = "soon"

    messages = crdschema.object_errors(broken)

    assert len(messages) == 2
    assert messages[0].startswith('spec.endpoints.0.interval: "soon" does not match')
    assert messages[1].startswith('spec.endpoints.0.scheme: "ftp" is not one of')


def test_dashboard_is_labelled_for_the_grafana_sidecar_and_shows_gpu_for_gpu_models(
    deployments: dict[str, Resolved],
) -> None:
    cpu = dashboard_config_map(deployments["prod/iris-classifier"])
    gpu = dashboard_config_map(deployments["prod/digits-classifier"])

    assert cpu["metadata"]["labels"]["grafana_dashboard"] == "1"
    titles = [p["title"] for p in json.loads(gpu["data"]["digits-classifier.json"])["panels"]]
    assert titles == [
        "Requests per second",
        "5xx error ratio",
        "Request latency",
        "Inference time (ONNX Runtime)",
        "Replicas",
        "Input drift (PSI per feature)",
        "Prediction drift (PSI per output)",
        "Predictions: live share per class or bin vs reference",
        "GPU utilisation",
    ]
    assert "GPU utilisation" not in cpu["data"]["iris-classifier.json"]
    assert 'DCGM_FI_DEV_GPU_UTIL{namespace=\\"ml-prod\\"' in gpu["data"]["digits-classifier.json"]


def test_promtool_accepts_the_rules(iris: Resolved, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": rule_groups(iris)}))

    done = subprocess.run(
        [promtool(), "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"Checking {rules}\n  SUCCESS: 4 rules found\n\n"


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


SCRAPE = {"namespace": "ml-prod", "service": "iris-classifier"}
INFER = {**SCRAPE, "route": "/v2/models/<name>/infer", "method": "POST"}
HEALTH = {**SCRAPE, "route": "/v2/health/ready", "method": "GET"}


def _series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    return {"series": metric + _labels(labels), "values": values}


def _latency(buckets: dict[str, str]) -> list[dict[str, str]]:
    return [
        _series("mlgitops_serve_request_duration_seconds_bucket", {**INFER, "le": le}, values)
        for le, values in buckets.items()
    ]


# alert -> (series that must fire it, extra labels of the alert, series that must not)
CASES: dict[str, tuple[list[dict[str, str]], dict[str, str], list[dict[str, str]]]] = {
    "MLModelNotReady": (
        [
            _series("mlgitops_serve_model_ready", {**SCRAPE, "pod": POD}, "0x20"),
            _series("mlgitops_serve_model_ready", {**SCRAPE, "pod": POD + "a"}, "1x20"),
        ],
        {**SCRAPE, "pod": POD},
        [_series("mlgitops_serve_model_ready", {**SCRAPE, "pod": POD}, "1x20")],
    ),
    "MLModelErrorRatioHigh": (
        [
            _series("mlgitops_serve_requests_total", {**INFER, "status": "200"}, "0+90x20"),
            _series("mlgitops_serve_requests_total", {**INFER, "status": "500"}, "0+10x20"),
        ],
        {},
        [
            _series("mlgitops_serve_requests_total", {**INFER, "status": "200"}, "0+1000x20"),
            _series("mlgitops_serve_requests_total", {**INFER, "status": "500"}, "0+5x20"),
            _series("mlgitops_serve_requests_total", {**HEALTH, "status": "503"}, "0+500x20"),
        ],
    ),
    "MLModelLatencyP99High": (
        _latency({"0.05": "0+10x20", "0.1": "0+10x20", "0.25": "0+100x20", "+Inf": "0+100x20"}),
        {},
        _latency({"0.05": "0+100x20", "0.1": "0+100x20", "0.25": "0+100x20", "+Inf": "0+100x20"}),
    ),
    "MLModelPodsRestarting": (
        [
            _series(
                "kube_pod_container_status_restarts_total",
                {"namespace": "ml-prod", "pod": POD, "container": "server"},
                "0+1x20",
            )
        ],
        {"namespace": "ml-prod", "pod": POD, "container": "server"},
        [
            _series(
                "kube_pod_container_status_restarts_total",
                {"namespace": "ml-prod", "pod": POD, "container": "server"},
                "1x20",
            ),
            _series(
                "kube_pod_container_status_restarts_total",
                {
                    "namespace": "ml-prod",
                    "pod": "iris-classifier-v2-6d4f9-x2x9z",
                    "container": "server",
                },
                "0+1x20",
            ),
        ],
    ),
}


def _rule(iris: Resolved, alert: str) -> dict[str, Any]:
    return next(r for r in rule_groups(iris)[0]["rules"] if r["alert"] == alert)


def _test_cases(iris: Resolved, expect_firing_when_quiet: bool = False) -> list[dict[str, Any]]:
    tests = []
    for alert, (firing, labels, quiet) in CASES.items():
        rule = _rule(iris, alert)
        expected = [
            {"exp_labels": {**rule["labels"], **labels}, "exp_annotations": rule["annotations"]}
        ]
        tests.append(
            {
                "interval": "1m",
                "input_series": firing,
                "alert_rule_test": [
                    {"eval_time": "18m", "alertname": alert, "exp_alerts": expected}
                ],
            }
        )
        tests.append(
            {
                "interval": "1m",
                "input_series": quiet,
                "alert_rule_test": [
                    {
                        "eval_time": "18m",
                        "alertname": alert,
                        "exp_alerts": expected if expect_firing_when_quiet else [],
                    }
                ],
            }
        )
    return tests


def _promtool_test(
    iris: Resolved, tmp_path: Path, tests: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    return run_rule_tests(rule_groups(iris), tmp_path, tests)


def test_each_alert_fires_on_its_series_and_stays_quiet_otherwise(
    iris: Resolved, tmp_path: Path
) -> None:
    done = _promtool_test(iris, tmp_path, _test_cases(iris))

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "Unit Testing:  tests.yaml\n  SUCCESS\n\n"


def test_the_quiet_series_really_do_not_fire(iris: Resolved, tmp_path: Path) -> None:
    """The same quiet cases, now expecting the alert: promtool must report every one missing,
    so the passing test above cannot pass by evaluating nothing."""
    done = _promtool_test(iris, tmp_path, _test_cases(iris, expect_firing_when_quiet=True))

    assert done.returncode == 1
    for alert in CASES:
        assert f"alertname: {alert}, time: 18m" in done.stdout + done.stderr
