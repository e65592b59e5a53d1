"""End to end on real parts: dockerd, an OCI registry, the built image serving a real model.

Needs root (dockerd, debootstrap). Outside CI a non-root run skips and says so; with CI=true
it always runs, and a missing part fails the test.
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from generator.load.release import Pin, read_release
from tests.delivery.e2e_support import (
    REPO,
    ci,
    free_port,
    kustomize,
    make_workspace,
    mlgitops,
    parse_env,
    registry_digest,
    services,
)

MODEL = "iris-classifier"
SAMPLES = np.array(
    [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]], dtype=np.float32
)
SPECIES = [0, 1, 2]  # setosa, versicolor, virginica: the classic first sample of each
READY_DEADLINE_S = 120

pytestmark = pytest.mark.docker


@pytest.fixture(scope="session")
def e2e_env() -> Iterator[dict[str, str]]:
    """The services, started by scripts/e2e/services.sh; stopped only if this run started them."""
    if os.geteuid() != 0 and not ci():
        pytest.skip("needs root to run dockerd and debootstrap; CI (CI=true) always runs it")
    already_up = services("status").returncode == 0
    started = services("start")
    assert started.returncode == 0, started.stderr
    env = parse_env(started.stdout)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_HOST", env["DOCKER_HOST"])
        yield env
    if not already_up:
        stopped = services("stop")
        assert stopped.returncode == 0, stopped.stderr


def _workspace(e2e_env: dict[str, str], factory: pytest.TempPathFactory, model: str) -> Path:
    """A repository holding ``model`` alone, its registry the local one."""
    registry = f"{e2e_env['MLGITOPS_E2E_REGISTRY']}/e2e"
    return make_workspace(factory.mktemp(f"e2e-{model}"), model, registry)


@pytest.fixture(scope="session")
def workspace(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workspace(e2e_env, tmp_path_factory, MODEL)


@pytest.fixture(scope="session")
def pushed(e2e_env: dict[str, str], workspace: Path) -> str:
    """Build and push the example model once; the pinned digest is what later steps use."""
    code, out, err = mlgitops(
        workspace, "build", MODEL, "--push", "--base-image", e2e_env["MLGITOPS_E2E_BASE_IMAGE"]
    )
    assert code == 0, err
    assert f"{MODEL}: pushed " in out
    pin = read_release(workspace / f"models/{MODEL}/release.yaml", "r", MODEL).pin("dev")
    assert pin is not None
    return pin.digest


def test_pinned_digest_is_the_registrys(
    e2e_env: dict[str, str], workspace: Path, pushed: str
) -> None:
    served = registry_digest(e2e_env["MLGITOPS_E2E_REGISTRY"], f"e2e/{MODEL}", "1.0.0")
    assert pushed == served
    release = read_release(workspace / f"models/{MODEL}/release.yaml", "r", MODEL)
    assert set(release.environments) == {"dev"}
    dev = release.environments["dev"]
    assert (dev.image, dev.version) == (f"{e2e_env['MLGITOPS_E2E_REGISTRY']}/e2e/{MODEL}", "1.0.0")


def test_image_carries_provenance_labels(workspace: Path, pushed: str) -> None:
    image = docker.from_env().images.get(f"{_repository(workspace)}@{pushed}")
    labels = image.labels
    assert labels["io.mlgitops.model"] == MODEL
    assert labels["io.mlgitops.version"] == "1.0.0"
    assert len(labels["io.mlgitops.artifact-sha256"]) == 64
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert len(labels["org.opencontainers.image.revision"]) == 40
    assert labels["org.opencontainers.image.created"].endswith("Z")


@contextmanager
def serving(
    reference: str, model: str, **extra_env: str
) -> Iterator[tuple[triton.InferenceServerClient, Any]]:
    """Run the image as the generated Deployment runs it (read-only root, writable /tmp only,
    no capabilities) on a free port, and yield a client once it is ready, and the container.
    ``extra_env``: more environment variables of the server."""
    port = free_port()
    client = docker.from_env()
    container = client.containers.run(
        reference,
        detach=True,
        network_mode="host",
        environment={
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "MODEL_NAME": model,
            "MODEL_VERSION": "1.0.0",
            "WORKERS": "1",
            **extra_env,
        },
        read_only=True,
        tmpfs={"/tmp": "rw,size=64m"},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
    )
    server = triton.InferenceServerClient(url=f"127.0.0.1:{port}")
    try:
        _wait_ready(server, container)
        yield server, container
    finally:
        server.close()
        container.remove(force=True)
        client.close()


def test_pinned_image_serves_the_right_answers(workspace: Path, pushed: str) -> None:
    with serving(f"{_repository(workspace)}@{pushed}", MODEL) as (server, _):
        request = triton.InferInput("input", list(SAMPLES.shape), "FP32")
        request.set_data_from_numpy(SAMPLES)
        result = server.infer(MODEL, [request], outputs=[triton.InferRequestedOutput("label")])
        assert result.as_numpy("label").tolist() == SPECIES


def test_promote_moves_the_pin_to_staging(workspace: Path, pushed: str) -> None:
    code, out, err = mlgitops(workspace, "promote", MODEL, "--to", "staging")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"{MODEL}: promote dev -> staging"
    release = read_release(workspace / f"models/{MODEL}/release.yaml", "r", MODEL)
    staging = release.pin("staging")
    assert staging is not None and staging.digest == pushed


def test_generated_overlays_pin_the_digest(workspace: Path, pushed: str) -> None:
    """Runs through `mlgitops generate` and real kustomize once the CLI offers generate."""
    from generator.cli import main

    assert "generate" in main.commands, "mlgitops generate is not registered"
    mlgitops(workspace, "promote", MODEL, "--to", "staging")
    code, _, err = mlgitops(workspace, "generate")
    assert code == 1, "prod sets requireDigest and has no pin yet"
    assert f"run 'mlgitops promote {MODEL} --to prod'" in err
    mlgitops(workspace, "promote", MODEL, "--to", "prod")
    code, _, err = mlgitops(workspace, "generate")
    assert code == 0, err
    for env in ("dev", "staging", "prod"):
        built = kustomize(workspace / "overlays" / env / MODEL)
        assert f"image: {_repository(workspace)}@{pushed}" in built, env


def _repository(workspace: Path) -> str:
    release = read_release(workspace / f"models/{MODEL}/release.yaml", "r", MODEL)
    return release.environments["dev"].image


def _wait_ready(server: triton.InferenceServerClient, container: object) -> None:
    """Poll readiness with a generous deadline; a dead container fails at once with its log."""
    deadline = time.monotonic() + READY_DEADLINE_S
    while time.monotonic() < deadline:
        container.reload()  # type: ignore[attr-defined]
        if container.status == "exited":  # type: ignore[attr-defined]
            logs = container.logs().decode(errors="replace")  # type: ignore[attr-defined]
            pytest.fail(f"server container exited:\n{logs}")
        try:
            if server.is_server_ready():
                return
        except (OSError, InferenceServerException):
            pass  # refused or reset while gunicorn starts
        time.sleep(0.5)
    pytest.fail(f"server not ready after {READY_DEADLINE_S}s")


def test_image_runs_as_non_root_and_keeps_secrets_out_of_its_layers(
    workspace: Path, pushed: str
) -> None:
    image = docker.from_env().images.get(f"{_repository(workspace)}@{pushed}")
    user = image.attrs["Config"]["User"]
    assert user and user.split(":")[0] not in ("0", "root"), user
    history = " ".join(str(step.get("CreatedBy", "")) for step in image.history())
    assert "BEGIN CERTIFICATE" not in history
    assert "PIP_CERT=" not in " ".join(image.attrs["Config"].get("Env") or [])
    assert "ca-bundle" not in history, "the CA bundle must stay in the builder stage"


GPU_MODEL = "digits-classifier"
GPU_PROVIDERS = "CUDAExecutionProvider,CPUExecutionProvider"


@pytest.fixture(scope="session")
def gpu_workspace(e2e_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workspace(e2e_env, tmp_path_factory, GPU_MODEL)


@pytest.fixture(scope="session")
def gpu_pushed(e2e_env: dict[str, str], gpu_workspace: Path) -> Pin:
    """The GPU example (on a GPU in staging and prod) built and pushed: two images, one pin.

    No CUDA base image can be pulled here, so the GPU runtime is built on the same Debian base
    as the CPU one: what runs is serving/Dockerfile.gpu with onnxruntime-gpu, minus CUDA."""
    base = e2e_env["MLGITOPS_E2E_BASE_IMAGE"]
    code, out, err = mlgitops(
        gpu_workspace, "build", GPU_MODEL, "--push", "--base-image", base, "--gpu-base-image", base
    )
    assert code == 0, err
    assert ":1.0.0 and " in out and ":1.0.0-gpu;" in out, out
    pin = read_release(gpu_workspace / f"models/{GPU_MODEL}/release.yaml", "r", GPU_MODEL).pin(
        "dev"
    )
    assert pin is not None and pin.gpu_digest is not None
    return pin


def test_a_model_on_a_gpu_gets_a_second_image_on_the_gpu_runtime(
    e2e_env: dict[str, str], gpu_pushed: Pin
) -> None:
    registry = e2e_env["MLGITOPS_E2E_REGISTRY"]
    assert gpu_pushed.digest == registry_digest(registry, f"e2e/{GPU_MODEL}", "1.0.0")
    assert gpu_pushed.gpu_digest == registry_digest(registry, f"e2e/{GPU_MODEL}", "1.0.0-gpu")
    assert gpu_pushed.gpu_digest != gpu_pushed.digest
    images = docker.from_env().images
    gpu_image = images.get(f"{gpu_pushed.image}@{gpu_pushed.gpu_digest}")
    cpu_image = images.get(gpu_pushed.reference)
    assert gpu_image.labels["io.mlgitops.accelerator"] == "gpu"
    assert cpu_image.labels["io.mlgitops.accelerator"] == "cpu"
    environment = dict(item.split("=", 1) for item in gpu_image.attrs["Config"]["Env"])
    assert environment["ORT_PROVIDERS"] == GPU_PROVIDERS


def test_the_gpu_image_without_a_gpu_says_so_and_serves_on_cpu(gpu_pushed: Pin) -> None:
    """This machine has no GPU: onnxruntime-gpu's CUDA provider cannot start, and the server
    must say so and, where the model allows the fallback (spec.server.allowCpuFallback renders
    ORT_ALLOW_FALLBACK=true), still answer exactly as ONNX Runtime on CPU does. Without it the
    server stays not ready (tests/serving/test_providers.py)."""
    samples = np.random.default_rng(7).uniform(0, 16, size=(5, 64)).astype(np.float32)
    session = ort.InferenceSession(
        str(REPO / "models" / GPU_MODEL / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    expected = session.run(["label"], {"input": samples})[0].tolist()
    reference = f"{gpu_pushed.image}@{gpu_pushed.gpu_digest}"
    with serving(reference, GPU_MODEL, ORT_ALLOW_FALLBACK="true") as (server, box):
        request = triton.InferInput("input", list(samples.shape), "FP32")
        request.set_data_from_numpy(samples)
        result = server.infer(GPU_MODEL, [request], outputs=[triton.InferRequestedOutput("label")])
        assert result.as_numpy("label").tolist() == expected
        logs = box.logs().decode(errors="replace")
    assert "CUDAExecutionProvider could not be initialised" in logs, logs[-2000:]


def test_gpu_environments_run_the_gpu_digest(gpu_workspace: Path, gpu_pushed: Pin) -> None:
    for env in ("staging", "prod"):
        code, out, err = mlgitops(gpu_workspace, "promote", GPU_MODEL, "--to", env)
        assert code == 0, err
        assert f"  + {gpu_pushed.image}@{gpu_pushed.gpu_digest} (GPU)" in out
    code, _, err = mlgitops(gpu_workspace, "generate")
    assert code == 0, err
    expected = {
        "dev": gpu_pushed.reference,
        "staging": f"{gpu_pushed.image}@{gpu_pushed.gpu_digest}",
        "prod": f"{gpu_pushed.image}@{gpu_pushed.gpu_digest}",
    }
    for env, reference in expected.items():
        assert f"image: {reference}\n" in kustomize(gpu_workspace / "overlays" / env / GPU_MODEL)


def test_the_image_carries_the_profile_and_counts_drift(workspace: Path, pushed: str) -> None:
    """profile.json travels next to model.onnx; with MODEL_PROFILE, as the generated ConfigMap
    sets it where drift is on, the image counts inputs."""
    reference = f"{_repository(workspace)}@{pushed}"
    with serving(reference, MODEL, MODEL_PROFILE="/models/profile.json") as (server, container):
        request = triton.InferInput("input", list(SAMPLES.shape), "FP32")
        request.set_data_from_numpy(SAMPLES)
        server.infer(MODEL, [request])
        port = next(
            e.split("=", 1)[1] for e in container.attrs["Config"]["Env"] if e.startswith("PORT=")
        )
        counted = 0.0
        for _ in range(50):  # counts reach /metrics within the one-second flush
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
            counted = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("mlgitops_model_input_bin_total{")
            )
            if counted:
                break
            time.sleep(0.2)
        assert counted == SAMPLES.size
        exit_code, output = container.exec_run(
            [
                "/opt/venv/bin/python",
                "-c",
                "import os; path = os.environ['MODEL_PROFILE']; print(path, os.path.isfile(path))",
            ]
        )
        assert (exit_code, output.decode().split()) == (0, ["/models/profile.json", "True"])
