"""The runtime and per-model Dockerfiles pass hadolint, run as non-root, write only to /tmp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving.conftest import REPO

DOCKERFILES = ["Dockerfile", "Dockerfile.gpu", "Dockerfile.model"]
HADOLINT = Path(sys.executable).with_name("hadolint")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_is_clean(name: str) -> None:
    result = subprocess.run(
        [str(HADOLINT), "--no-color", str(REPO / "serving" / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_runtime_images_are_non_root_and_keep_state_in_tmp(name: str) -> None:
    text = (REPO / "serving" / name).read_text()
    final_stage = text.rsplit("\nFROM ", 1)[1]
    assert "USER 10001:10001" in final_stage
    assert "PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus" in final_stage
    assert "extra-ca.pem" not in final_stage
    assert 'ENTRYPOINT ["mlgitops-serve"]' in final_stage


def test_model_image_sets_model_path() -> None:
    text = (REPO / "serving" / "Dockerfile.model").read_text()
    assert "ARG RUNTIME_IMAGE" in text
    assert "COPY ${MODEL_DIR}/ /models/" in text
    assert "ENV MODEL_PATH=/models/model.onnx" in text
