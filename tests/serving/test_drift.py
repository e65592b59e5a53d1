"""Drift counting and feedback in the real server (gunicorn, two workers, multiprocess metrics):
the reference data sent back through HTTP lands in exactly the profile's bins, the metrics pass
promtool, a profile of another artifact is refused, and feedback counts correct and wrong
predictions (classifiers) and absolute errors (regressors)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.serving.conftest import EXAMPLES, REPO, Server, start_server

IRIS = REPO / "models" / "iris-classifier"
DIABETES = REPO / "models" / "diabetes-regressor"


def _reference(folder: Path) -> np.ndarray:
    return np.loadtxt(folder / "reference.csv", delimiter=",", skiprows=1, dtype=np.float32)


def _infer(server: Server, name: str, rows: np.ndarray) -> dict[str, Any]:
    tensor = {
        "name": "input",
        "shape": list(rows.shape),
        "datatype": "FP32",
        "data": rows.ravel().tolist(),
    }
    reply = requests.post(
        f"{server.url}/v2/models/{name}/infer", json={"inputs": [tensor]}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


def samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(server.url + "/metrics", timeout=30).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("mlgitops_model_"):
                # An empty label is no label to Prometheus (the reference gauge has either a
                # feature or an output).
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if v))
                found[(sample.name, labels)] = sample.value
    return found


def wait_for_count(server: Server, metric: str, total: float) -> dict[Any, float]:
    """Counts reach the counters within the flush interval (1 s): poll, do not sleep blindly."""
    for _ in range(100):
        found = samples(server)
        counted = sum(v for (name, _), v in found.items() if name == metric)
        if counted >= total:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{metric}: {counted} counted, expected {total}")


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("drift-server")
    server = start_server(
        tmp,
        EXAMPLES["iris-classifier"],
        MODEL_NAME="iris-classifier",
        MODEL_PROFILE=str(IRIS / "profile.json"),
    )
    yield server
    server.stop()


def test_reference_traffic_lands_in_the_profiles_bins(monitored: Server) -> None:
    profile = json.loads((IRIS / "profile.json").read_text())
    rows = _reference(IRIS)
    for chunk in np.array_split(rows, 7):  # several requests, spread over both workers
        _infer(monitored, "iris-classifier", chunk)
    found = wait_for_count(monitored, "mlgitops_model_input_bin_total", 4 * len(rows))

    for feature in profile["features"]:
        counts = [
            found[
                (
                    "mlgitops_model_input_bin_total",
                    (("bin", str(i)), ("feature", feature["name"]), ("model", "iris-classifier")),
                )
            ]
            for i in range(len(feature["proportions"]))
        ]
        assert counts == [round(p * len(rows)) for p in feature["proportions"]]
    label = next(o for o in profile["outputs"] if o["name"] == "label")
    predicted = [
        found[
            (
                "mlgitops_model_prediction_bin_total",
                (("bin", c), ("model", "iris-classifier"), ("output", "label")),
            )
        ]
        for c in label["classes"]
    ]
    assert predicted == [round(p * len(rows)) for p in label["proportions"]]
    reference = found[
        (
            "mlgitops_model_reference_proportion",
            (("bin", "0"), ("feature", "sepal_length_cm"), ("model", "iris-classifier")),
        )
    ]
    assert reference == profile["features"][0]["proportions"][0]


def test_monitoring_metrics_pass_promtool(monitored: Server) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run scripts/install-apt.sh prometheus")
    text = requests.get(monitored.url + "/metrics", timeout=30).text
    done = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mlgitops_model_input_bin_total" in text


def _feedback(
    server: Server, name: str, predicted: list[Any], actual: list[Any], datatype: str, **params: Any
) -> requests.Response:
    body = {
        "inputs": [
            {
                "name": "predicted",
                "shape": [len(predicted)],
                "datatype": datatype,
                "data": predicted,
            },
            {"name": "actual", "shape": [len(actual)], "datatype": datatype, "data": actual},
        ],
        **({"parameters": params} if params else {}),
    }
    return requests.post(f"{server.url}/v2/models/{name}/feedback", json=body, timeout=30)


def test_feedback_counts_correct_and_incorrect_predictions(monitored: Server) -> None:
    before = samples(monitored)
    reply = _feedback(monitored, "iris-classifier", [0, 1, 2, 2], [0, 1, 1, 0], "INT64")

    assert reply.status_code == 200, reply.text
    assert reply.json() == {
        "model_name": "iris-classifier",
        "output": "label",
        "rows": 4,
        "correct": 2,
    }
    after = samples(monitored)
    for outcome in ("correct", "incorrect"):
        key = (
            "mlgitops_model_feedback_total",
            (("model", "iris-classifier"), ("outcome", outcome), ("output", "label")),
        )
        assert after[key] - before.get(key, 0.0) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"inputs": [{"name": "predicted", "shape": [1], "datatype": "INT64", "data": [1]}]},
            "missing input: 'actual'",
        ),
        (
            {
                "inputs": [
                    {"name": "predicted", "shape": [2], "datatype": "INT64", "data": [1, 2]},
                    {"name": "actual", "shape": [1], "datatype": "INT64", "data": [1]},
                ]
            },
            "'predicted' has shape [2] but 'actual' [1]",
        ),
        (
            {
                "parameters": {"output": "score"},
                "inputs": [{"name": "predicted", "shape": [1], "datatype": "INT64", "data": [1]}],
            },
            "parameters.output 'score' is not an output of this model",
        ),
        (
            {
                "inputs": [
                    {"name": "predicted", "shape": [1], "datatype": "FP32", "data": [1.0]},
                    {"name": "actual", "shape": [1], "datatype": "FP32", "data": [1.0]},
                ]
            },
            "wrong datatype FP32, the model expects INT64",
        ),
    ],
    ids=["missing-actual", "shapes-differ", "unknown-output", "wrong-datatype"],
)
def test_bad_feedback_is_a_400_naming_the_fault(
    monitored: Server, body: dict[str, Any], message: str
) -> None:
    reply = requests.post(
        f"{monitored.url}/v2/models/iris-classifier/feedback", json=body, timeout=30
    )
    assert reply.status_code == 400
    assert message in reply.json()["error"]


def test_regressor_feedback_adds_absolute_errors(tmp_path: Path) -> None:
    server = start_server(
        tmp_path,
        EXAMPLES["diabetes-regressor"],
        MODEL_NAME="diabetes",
        MODEL_PROFILE=str(DIABETES / "profile.json"),
    )
    try:
        reply = requests.post(
            f"{server.url}/v2/models/diabetes/feedback",
            json={
                "inputs": [
                    {"name": "predicted", "shape": [2, 1], "datatype": "FP32", "data": [100, 150]},
                    {"name": "actual", "shape": [2, 1], "datatype": "FP32", "data": [90, 160.5]},
                ]
            },
            timeout=30,
        )
        found = samples(server)
    finally:
        server.stop()
    assert reply.status_code == 200, reply.text
    assert reply.json()["absolute_error"] == pytest.approx(20.5)
    labels = (("model", "diabetes"), ("output", "variable"))
    assert found[("mlgitops_model_feedback_absolute_error_total", labels)] == pytest.approx(20.5)
    assert (
        found[("mlgitops_model_feedback_total", (*labels[:1], ("outcome", "scored"), labels[1]))]
        == 2
    )


def test_a_profile_of_another_artifact_is_refused_and_the_model_still_serves(
    tmp_path: Path,
) -> None:
    stale = json.loads((IRIS / "profile.json").read_text())
    stale["artifact"]["sha256"] = "0" * 64
    (tmp_path / "profile.json").write_text(json.dumps(stale))
    server = start_server(
        tmp_path,
        EXAMPLES["iris-classifier"],
        MODEL_NAME="iris-classifier",
        MODEL_PROFILE=str(tmp_path / "profile.json"),
    )
    try:
        _infer(server, "iris-classifier", _reference(IRIS)[:5])
        time.sleep(1.5)  # past a flush: nothing may have been counted
        found = samples(server)
    finally:
        server.stop()
    assert not [key for key in found if "bin_total" in key[0]]
    assert "stale profile, rerun mlgitops profile" in server.log_text()


def test_without_a_profile_nothing_is_counted(iris_server: Server) -> None:
    found = samples(iris_server)
    assert not [key for key in found if "bin" in key[0] or "reference" in key[0]]
