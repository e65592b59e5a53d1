"""Image builds and pushes through the Docker engine API (the ``docker`` SDK, classic builder).

One runtime image holds the server and its dependencies and is tagged by the hash of what it
is built from, so it is built once and reused until serving/ or the pins change. Each model
gets a thin image on top that adds only its artifact: rebuilding it after a model update
copies one file instead of reinstalling onnxruntime. A model that runs on a GPU anywhere gets a
second thin image, on the GPU runtime (CUDA base, onnxruntime-gpu), tagged ``<version>-gpu``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.auth
import docker.errors

from generator.delivery.context import content_hash, context_files, context_tar
from generator.delivery.progress import Progress
from generator.delivery.registry import manifest_digest, split_reference
from generator.errors import ExitCode, MlgitopsError
from generator.layout import RepoLayout
from generator.load.release import image_tag

RUNTIME_DOCKERFILES = {"cpu": "serving/Dockerfile", "gpu": "serving/Dockerfile.gpu"}
MODEL_DOCKERFILE = "serving/Dockerfile.model"
RUNTIME_CONTEXT = ("serving", "pyproject.toml", "constraints.txt", "README.md")
RUNTIME_REPOSITORIES = {"cpu": "mlgitops-runtime", "gpu": "mlgitops-runtime-gpu"}
BUILD_CA_MEMBER = ".mlgitops-build/ca-bundle.pem"
"""Where the CA bundle lands in the runtime build context, passed as CA_BUNDLE: the
Dockerfile's builder stage trusts it (a TLS-inspecting proxy); the final stage never sees it."""
_PIP_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT")


class EngineUnavailable(MlgitopsError):
    """No Docker engine answered; the message says where we looked (exit 2)."""

    exit_code = ExitCode.USAGE


class BuildFailed(MlgitopsError):
    """The engine refused a build or a push; the message ends with the engine's own words."""


@dataclass(frozen=True)
class BuildSettings:
    """What a build needs from the machine it runs on rather than from the repository."""

    base_image: str | None = None
    ca_bundle: Path | None = None
    pip_settings: Mapping[str, str] | None = None
    no_cache: bool = False
    """Ignore the builder's layer cache (a full rebuild, as on a fresh CI machine)."""
    gpu_base_image: str | None = None

    def base_for(self, accelerator: str) -> str | None:
        return self.gpu_base_image if accelerator == "gpu" else self.base_image


@dataclass(frozen=True)
class ModelImage:
    repository: str
    tag: str
    image_id: str

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


def connect() -> docker.DockerClient:
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if where.startswith("unix://") and not Path(where.removeprefix("unix://")).exists():
        # Asking the SDK would leak the socket of the failed connection; the answer is known.
        raise EngineUnavailable(f"no Docker engine answers at {where}: the socket does not exist")
    try:
        client = docker.from_env(timeout=900)
    except docker.errors.DockerException as error:
        raise EngineUnavailable(f"no Docker engine answers at {where}: {error}") from error
    try:
        client.ping()
    except docker.errors.DockerException as error:
        client.close()
        raise EngineUnavailable(f"no Docker engine answers at {where}: {error}") from error
    return client


def settings_from_environment(
    base_image: str | None,
    environ: Mapping[str, str],
    *,
    no_cache: bool = False,
    gpu_base_image: str | None = None,
) -> BuildSettings:
    """pip inside the build sees neither our pip.conf nor our CA bundle, so pass them on.

    Only http(s) index URLs travel: a file:// mirror on this machine means nothing inside the
    build. The CA bundle is the one pip itself is told to use (MLGITOPS_BUILD_CA_BUNDLE first).
    """
    bundle = environ.get("MLGITOPS_BUILD_CA_BUNDLE") or environ.get("PIP_CERT")
    pip: dict[str, str] = {}
    for name in _PIP_SETTINGS:
        value = " ".join(
            part
            for part in environ.get(name, "").split()
            if name in ("PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT") or part.startswith("http")
        )
        if value:
            pip[name] = value
    return BuildSettings(
        base_image, Path(bundle) if bundle else None, pip, no_cache, gpu_base_image
    )


def runtime_tag(root: Path, settings: BuildSettings, accelerator: str = "cpu") -> str:
    files = context_files(root, RUNTIME_CONTEXT)
    base = settings.base_for(accelerator)
    digest = content_hash(root, files, salt=[f"base={base or ''}", f"runtime={accelerator}"])
    return f"{RUNTIME_REPOSITORIES[accelerator]}:{digest[:16]}"


def ensure_runtime_image(
    client: docker.DockerClient,
    root: Path,
    settings: BuildSettings,
    progress: Progress,
    accelerator: str = "cpu",
) -> str:
    tag = runtime_tag(root, settings, accelerator)
    subject = "runtime" if accelerator == "cpu" else f"{accelerator} runtime"
    if _exists(client, tag):
        progress.event(subject, f"reusing {tag}")
        return tag
    progress.event(subject, f"building {tag}")
    extra = {}
    args = dict(settings.pip_settings or {})
    if settings.ca_bundle is not None and settings.ca_bundle.is_file():
        extra[BUILD_CA_MEMBER] = settings.ca_bundle.read_bytes()
        args["CA_BUNDLE"] = BUILD_CA_MEMBER
    base = settings.base_for(accelerator)
    if base:
        args["BASE_IMAGE"] = base
    context = context_tar(root, context_files(root, RUNTIME_CONTEXT), extra)
    dockerfile = RUNTIME_DOCKERFILES[accelerator]
    _build(client, subject, context, dockerfile, tag, args, {}, progress, settings)
    return tag


def build_model_image(
    client: docker.DockerClient,
    root: Path,
    *,
    name: str,
    version: str,
    accelerator: str,
    files: Mapping[str, Path],
    runtime: str,
    repository: str,
    labels: Mapping[str, str],
    progress: Progress,
    settings: BuildSettings,
) -> ModelImage:
    """``files``: the model folder of the image (``model.onnx`` and the external data files its
    graph references) -> where their bytes are here; the caller has checked every sha256."""
    model_dir = RepoLayout(root).relative(RepoLayout(root).model_dir(name))
    extra = {f"{model_dir}/{member}": path.read_bytes() for member, path in files.items()}
    # The reference profile travels beside the artifact; the server finds it through
    # MODEL_PROFILE (serving/Dockerfile.model).
    profile = RepoLayout(root).profile_file(name)
    if profile.is_file():
        extra[f"{model_dir}/{profile.name}"] = profile.read_bytes()
    context = context_tar(root, [MODEL_DOCKERFILE], extra)
    args = {
        "RUNTIME_IMAGE": runtime,
        "MODEL_DIR": model_dir,
        "MODEL_NAME": name,
        "MODEL_VERSION": version,
    }
    tag = image_tag(version, accelerator)
    image_id = _build(
        client,
        name,
        context,
        MODEL_DOCKERFILE,
        f"{repository}:{tag}",
        args,
        labels,
        progress,
        settings,
    )
    return ModelImage(repository, tag, image_id)


def push(client: docker.DockerClient, image: ModelImage, progress: Progress) -> str:
    """Push, then return the digest the registry serves for the tag."""
    pushed = ""
    stream = client.api.push(image.repository, tag=image.tag, stream=True, decode=True)
    for message in _messages(stream):
        if "error" in message:
            raise BuildFailed(f"push of {image.reference} failed: {message['error']}")
        aux = message.get("aux")
        if isinstance(aux, dict) and aux.get("Digest"):
            pushed = str(aux["Digest"])
        elif message.get("status"):
            layer = f"{message['id']} " if message.get("id") else ""
            progress.step(image.repository, f"push {layer}{message['status']}")
    host, _ = split_reference(image.repository)
    served = manifest_digest(image.repository, image.tag, _credentials(host))
    if pushed and pushed != served:
        raise BuildFailed(
            f"the engine pushed {image.reference} as {pushed} but the registry serves {served}"
        )
    return served


def _credentials(host: str) -> dict[str, str]:
    """The engine's stored login for ``host`` (docker login), so private registries answer."""
    auth = docker.auth.resolve_authconfig(docker.auth.load_config(), registry=host) or {}
    return {
        key: str(auth[field])
        for key, field in (("username", "username"), ("password", "password"))
        if auth.get(field)
    }


def _exists(client: docker.DockerClient, reference: str) -> bool:
    try:
        client.images.get(reference)
    except docker.errors.ImageNotFound:
        return False
    return True


def _build(
    client: docker.DockerClient,
    subject: str,
    context: Any,
    dockerfile: str,
    tag: str,
    args: Mapping[str, str],
    labels: Mapping[str, str],
    progress: Progress,
    settings: BuildSettings,
) -> str:
    """Run one classic-builder build on the host network (the engine here has no bridge)."""
    image_id = ""
    recent: list[str] = []
    try:
        stream = client.api.build(
            fileobj=context,
            custom_context=True,
            dockerfile=dockerfile,
            tag=tag,
            buildargs=dict(args),
            labels=dict(labels),
            network_mode="host",
            nocache=settings.no_cache,
            rm=True,
            forcerm=True,
            decode=True,
        )
        for message in _messages(stream):
            if "error" in message:
                tail = "".join(recent[-15:])
                raise BuildFailed(f"build of {tag} failed: {message['error']}\n{tail}".rstrip())
            text = str(message.get("stream", ""))
            if text.strip():
                recent.append(text if text.endswith("\n") else text + "\n")
                if text.startswith("Step "):
                    progress.step(subject, text.strip())
            aux = message.get("aux")
            if isinstance(aux, dict) and aux.get("ID"):
                image_id = str(aux["ID"])
    except docker.errors.APIError as error:
        raise BuildFailed(f"build of {tag} failed: {error.explanation or error}") from error
    if not image_id:
        image_id = str(client.images.get(tag).id)
    return image_id


def _messages(stream: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for message in stream:
        if isinstance(message, dict):
            yield message
