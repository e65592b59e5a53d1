"""Threads and memory derived from the pod's resources and the artifact (`generator.check.sizing`):
ONNX Runtime threads from the CPU request, rendered into the ConfigMap the real kustomize builds;
the memory a replica needs; and `mlgitops init` sizing memory from the artifact."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from generator.check.sizing import MIB, MemoryNeed, initial_memory, intra_op_threads
from generator.layout import RepoLayout
from generator.load.yamlsource import load_all_core
from generator.pipeline import make_plan
from generator.verify.overlays import build_one
from tests.conftest import run_cli
from tests.generator.conftest import RepoFactory, model_yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cpu", "workers", "threads"),
    [
        ("250m", 2, 1),  # less than a core per worker: still one thread
        ("500m", 1, 1),
        ("1", 1, 1),
        ("1500m", 1, 1),  # whole cores only
        ("4", 2, 2),
        ("3", 2, 1),
        ("16", 1, 16),
        ("64", 16, 4),
        ("2.5", 2, 1),
    ],
)
def test_intra_op_threads_are_the_cpu_request_divided_among_workers(
    cpu: str, workers: int, threads: int
) -> None:
    assert intra_op_threads(cpu, workers) == threads


def test_the_thread_count_reaches_each_environments_built_config_map(
    make_repo: RepoFactory,
) -> None:
    model = model_yaml(
        resources="{cpu: '4', memory: 1Gi}",
        # One replica in prod: two of 16 CPUs fill its quota of 32, and the update's surge pod
        # would not fit (check/quota.py counts the update surge).
        spec="server: {workers: 2}\nenvironments:\n"
        "  prod: {resources: {cpu: '16'}, scaling: {minReplicas: 1, maxReplicas: 1}}",
    )
    plan = make_plan(RepoLayout(make_repo({"models/fraud/model.yaml": model})))
    assert plan.problems == []

    threads = {}
    for env in ("dev", "prod"):
        result = build_one(plan, "fraud", env)
        assert result.ok, result.error
        (config,) = [o for o in load_all_core(result.output) if o["kind"] == "ConfigMap"]
        threads[env] = config["data"]["ORT_INTRA_OP_THREADS"]

    assert threads == {"dev": "2", "prod": "8"}


def test_memory_need_adds_master_workers_and_artifact_peaks() -> None:
    need = MemoryNeed(workers=16, artifact_bytes=0)
    assert need.total == 764 * MIB
    assert need.workers_fitting(256 * MIB) == 4
    big = MemoryNeed(workers=2, artifact_bytes=1_500_000_000)
    assert big.total == 60 * MIB + 2 * (44 * MIB + 3_150_000_000)


@pytest.mark.parametrize(
    ("workers", "artifact_bytes", "memory"),
    [
        (2, 1_000, "512Mi"),  # small models keep the schema default
        (2, 40 * MIB, "512Mi"),  # (60 + 2 x (44 + 84)) x 1.25 = 395 MiB -> the default
        (2, 100 * MIB, "768Mi"),  # (60 + 2 x (44 + 210)) x 1.25 = 710 MiB -> 768Mi
        (4, 100 * MIB, "1408Mi"),  # (60 + 4 x 254) x 1.25 = 1345 MiB -> 1408Mi
        (2, 1_500_000_000, "7744Mi"),  # the 1.5 GB model, peaking at 3.1 GB
    ],
)
def test_init_memory_is_sized_from_the_artifact(
    workers: int, artifact_bytes: int, memory: str
) -> None:
    assert initial_memory(workers, artifact_bytes) == memory


def weights_model(path: Path, size: int) -> Path:
    """y = x @ W, with W a float32 initializer of about ``size`` bytes."""
    rows = size // (4 * 64)
    weight = numpy_helper.from_array(np.ones((rows, 64), dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "weights",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", rows])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 64])],
        [weight],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_init_of_a_large_model_writes_memory_that_validates(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "environments.yaml", root / "environments.yaml")
    artifact = weights_model(tmp_path / "big.onnx", 100 * MIB)

    outcome = run_cli("init", "big", "--artifact", str(artifact), "--owner", "team", root=root)

    assert outcome.exit_code == 0, outcome.stderr
    text = (root / "models" / "big" / "model.yaml").read_text(encoding="utf-8")
    assert 'resources: {cpu: "500m", memory: "768Mi"}' in text
    assert run_cli("validate", "--skip-build", root=root).exit_code == 0
    # The same model at the old fixed 512Mi is flagged.
    (root / "models" / "big" / "model.yaml").write_text(text.replace("768Mi", "512Mi"))
    flagged = run_cli("validate", "--skip-build", root=root)
    assert flagged.exit_code == 1
    assert "memory 512Mi is less than big needs as it starts" in flagged.stderr
