"""A model whose weights are ONNX external data in S3, built into an image by `mlgitops build`
on the real engine and served from it: the answers prove the data file reached the image,
beside the graph, where ONNX Runtime reads it. Needs root (dockerd): see tests/delivery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as triton
from onnx import numpy_helper

from tests.artifacts import servers
from tests.artifacts.conftest import WIDTH, export, matmul_model, model_yaml
from tests.delivery.e2e_support import make_workspace, mlgitops
from tests.delivery.test_e2e import e2e_env, serving

pytestmark = pytest.mark.docker
__all__ = ["e2e_env"]  # the session fixture of the delivery end-to-end tests
SEED = 61


@pytest.fixture
def split_model_repo(
    e2e_env: dict[str, str],
    s3: servers.S3Server,
    scratch: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    for name, value in s3.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    split = export(SEED, external="weights.bin", scratch=scratch)
    servers.put_objects(
        s3, {"e2e/model.onnx": split.graph, "e2e/weights.bin": split.data["weights.bin"]}
    )
    registry = f"{e2e_env['MLGITOPS_E2E_REGISTRY']}/e2e"
    root = make_workspace(tmp_path / "repo", "iris-classifier", registry)
    folder = root / "models" / "split-weights"
    folder.mkdir(parents=True)
    text = model_yaml(f"uri: 's3://{s3.bucket}/e2e/model.onnx'", split, name="split-weights")
    (folder / "model.yaml").write_text(text, encoding="utf-8")
    yield root


def test_external_data_from_s3_is_built_into_the_image_and_served(
    e2e_env: dict[str, str], split_model_repo: Path
) -> None:
    code, out, err = mlgitops(
        split_model_repo,
        "build",
        "split-weights",
        "--base-image",
        e2e_env["MLGITOPS_E2E_BASE_IMAGE"],
    )
    assert code == 0, err
    reference = out.split("built ", 1)[1].split(" ", 1)[0]
    weights = numpy_helper.to_array(matmul_model(SEED).graph.initializer[0])
    rows = np.random.default_rng(7).standard_normal((3, WIDTH)).astype(np.float32)

    with serving(reference, "split-weights") as (server, container):
        request = triton.InferInput("x", list(rows.shape), "FP32")
        request.set_data_from_numpy(rows)
        result = server.infer(
            "split-weights", [request], outputs=[triton.InferRequestedOutput("y")]
        )
        listing = container.exec_run(["/bin/ls", "/models"]).output.decode().split()

    assert sorted(listing) == ["model.onnx", "weights.bin"]
    np.testing.assert_allclose(result.as_numpy("y"), rows @ weights, rtol=1e-5, atol=1e-5)
