"""GPU deployments get one more alert: MLModelNotOnGpu, when a replica's CUDA execution provider
is not the one running the model (`mlgitops_serve_execution_provider`), evaluated by
``promtool test rules`` on a series that must fire it and one that must not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.render.monitoring import rule_groups
from generator.resolve import Resolved
from tests.monitoring.test_monitoring import POD, _promtool_test, _series


@pytest.fixture(scope="module")
def digits(deployments: dict[str, Resolved]) -> Resolved:
    spec = deployments["prod/digits-classifier"]
    assert spec.accelerator == "gpu"
    return spec


CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
SCRAPE = {"namespace": "ml-prod", "service": "digits-classifier", "pod": POD}


def provider(name: str, values: str) -> dict[str, str]:
    return _series(
        "mlgitops_serve_execution_provider", {**SCRAPE, "model": "digits", "provider": name}, values
    )


def test_only_gpu_deployments_get_the_alert(
    digits: Resolved, deployments: dict[str, Resolved]
) -> None:
    alerts = [r["alert"] for r in rule_groups(digits)[0]["rules"]]
    assert alerts[-1] == "MLModelNotOnGpu"
    cpu = deployments["prod/iris-classifier"]
    assert "MLModelNotOnGpu" not in [r["alert"] for r in rule_groups(cpu)[0]["rules"]]


@pytest.mark.parametrize(
    ("series", "fires"),
    [
        ([provider(CUDA, "0x20"), provider(CPU, "1x20")], True),
        ([provider(CUDA, "1x20"), provider(CPU, "0x20")], False),
        ([provider(CPU, "1x20")], False),  # a CPU-only deployment's series
    ],
)  # fmt: skip
def test_the_alert_fires_exactly_when_cuda_is_not_active(
    digits: Resolved, tmp_path: Path, series: list[dict[str, str]], fires: bool
) -> None:
    rule = next(r for r in rule_groups(digits)[0]["rules"] if r["alert"] == "MLModelNotOnGpu")
    expected = [
        {
            "exp_labels": {**rule["labels"], "namespace": "ml-prod", "service": "digits-classifier",
                           "pod": POD},
            "exp_annotations": rule["annotations"],
        }
    ]  # fmt: skip
    test = {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": "18m", "alertname": "MLModelNotOnGpu", "exp_alerts": expected}
        ],
    }
    done = _promtool_test(digits, tmp_path, [test])
    assert (done.returncode == 0) is fires, done.stdout + done.stderr + yaml.safe_dump(test)
