"""Images for the played pod: the model's image built exactly as `mlgitops build` builds it
(Docker engine), then moved into Podman's local storage, which is where the pod takes them from.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import docker
import docker.errors

from generator.delivery import images
from generator.delivery.execute import _check_artifacts
from generator.delivery.inputs import ModelInput, load_platform
from generator.delivery.progress import Progress
from generator.run import podman


def build_model(
    root: Path,
    model: ModelInput,
    base_image: str | None,
    environ: Mapping[str, str],
    progress: Progress,
) -> tuple[docker.DockerClient, str]:
    """The model's CPU image on the CPU runtime; returns the client and the image reference.

    Raises InputError (artifact), images.EngineUnavailable and images.BuildFailed.
    """
    files = _check_artifacts(root, [model])[model.name]
    platform = load_platform(root)
    client = images.connect()
    settings = images.settings_from_environment(base_image, environ)
    runtime = images.ensure_runtime_image(client, root, settings, progress)
    built = images.build_model_image(
        client,
        root,
        name=model.name,
        version=model.version,
        accelerator="cpu",
        files=files,
        runtime=runtime,
        repository=f"{platform.registry}/{model.name}",
        labels={"io.mlgitops.model": model.name, "io.mlgitops.accelerator": "cpu"},
        progress=progress,
        settings=settings,
    )
    return client, built.reference


def podman_image_id(reference: str) -> str | None:
    done = podman.run(["image", "inspect", "--format", "{{.Id}}", reference], check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def to_podman(client: docker.DockerClient | None, reference: str, progress: Progress) -> str:
    """Make ``reference`` available to Podman: already there (same image id), or copied from
    the Docker engine with ``docker save`` | ``podman load``. Returns the reference.

    Raises images.BuildFailed when neither engine holds it.
    """
    engine_id = None
    if client is not None:
        try:
            engine_id = str(client.images.get(reference).id).removeprefix("sha256:")
        except docker.errors.ImageNotFound:
            engine_id = None
    local_id = podman_image_id(reference)
    if local_id is not None and (engine_id is None or engine_id == local_id):
        return reference
    if engine_id is None or client is None:
        raise images.BuildFailed(
            f"image {reference} is neither in Podman's storage nor in the Docker engine"
        )
    progress.event(reference, "copying from the Docker engine into Podman's storage")
    _load(client.api.get_image(reference))
    return reference


def _load(chunks: Iterable[bytes]) -> None:
    """Stream a ``docker save`` archive into ``podman load`` without holding it in memory."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [podman.binary(), "load"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        assert process.stdin is not None
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
        except BrokenPipeError:
            pass  # podman stopped reading: its exit code and stderr say why
        finally:
            process.stdin.close()
        process.wait(timeout=600)
        errors.seek(0)
        words = errors.read().decode(errors="replace").strip()
    if process.returncode != 0:
        raise images.BuildFailed(f"podman load failed: {words}")
