"""What `mlgitops build` and `mlgitops promote` do, apart from parsing their arguments.

Each function returns the exit code and writes to the streams it is given, so tests call it
directly and the click layer stays a thin parser (0 done, 1 invalid input or a failed build,
2 usage error or a missing tool).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import docker

from generator.delivery import images
from generator.delivery.changes import GitError, changed_models
from generator.delivery.inputs import (
    ModelInput,
    PlatformInput,
    load_model,
    load_models,
    load_platform,
    model_names,
)
from generator.delivery.progress import Progress, progress_for
from generator.delivery.promote import PromotionError, describe, plan_promotion
from generator.delivery.registry import RegistryError
from generator.load.release import Pin, read_release, write_release
from generator.problems import InputError, Problem, format_text

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
START_HINT = (
    "start one, e.g. `scripts/e2e/services.sh start` and then "
    '`eval "$(scripts/e2e/services.sh env)"`, or set DOCKER_HOST'
)


@dataclass(frozen=True)
class BuildOptions:
    root: Path
    models: tuple[str, ...] = ()
    push: bool = False
    registry: str | None = None
    base_image: str | None = None
    changed_since: str | None = None
    no_cache: bool = False
    gpu_base_image: str | None = None


@dataclass(frozen=True)
class PromoteOptions:
    root: Path
    model: str
    target: str
    source: str | None = None


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def execute_build(
    options: BuildOptions, out: TextIO, err: TextIO, environ: Mapping[str, str]
) -> int:
    try:
        platform = load_platform(options.root)
        models = _selected_models(options, out)
        if not models:
            return EXIT_OK
        _check_artifacts(models)
    except InputError as error:
        _report(err, error.problems)
        return EXIT_INVALID
    except GitError as error:
        err.write(f"mlgitops build: --changed-since {options.changed_since}: {error}\n")
        return EXIT_USAGE
    try:
        client = images.connect()
    except images.EngineUnavailable as error:
        err.write(f"mlgitops build: {error}\n  hint: {START_HINT}\n")
        return EXIT_USAGE
    progress = progress_for(err)
    settings = images.settings_from_environment(
        options.base_image,
        environ,
        no_cache=options.no_cache,
        gpu_base_image=options.gpu_base_image,
    )
    registry = options.registry or platform.registry
    try:
        runtimes = {"cpu": images.ensure_runtime_image(client, options.root, settings, progress)}
        if any(model.gpu_environments for model in models):
            runtimes["gpu"] = images.ensure_runtime_image(
                client, options.root, settings, progress, "gpu"
            )
        for model in models:
            _deliver(client, options, settings, platform, model, runtimes, registry, out, progress)
    except images.BuildFailed as error:
        err.write(f"mlgitops build: {error}\n")
        return EXIT_INVALID
    except RegistryError as error:
        err.write(f"mlgitops build: registry {registry}: {error}\n")
        return EXIT_USAGE
    except InputError as error:
        _report(err, error.problems)
        return EXIT_INVALID
    return EXIT_OK


def _selected_models(options: BuildOptions, out: TextIO) -> list[ModelInput]:
    names = list(options.models) or model_names(options.root)
    models = load_models(options.root, names)
    if options.changed_since is None:
        return models
    changed = set(changed_models(options.root, options.changed_since, names))
    if not changed:
        out.write(f"no model changed since {options.changed_since}\n")
    return [model for model in models if model.name in changed]


def _check_artifacts(models: Sequence[ModelInput]) -> None:
    """Every artifact before any build: a wrong hash must not cost a runtime build first."""
    problems = []
    for model in models:
        if not model.artifact.is_file():
            problems.append(Problem(model.source, *model.sha256_mark, "artifact file not found"))
            continue
        actual = images.artifact_sha256(model.artifact)
        if actual != model.artifact_sha256:
            problems.append(
                Problem(
                    model.source,
                    *model.sha256_mark,
                    f"{model.artifact_display} has sha256 {actual}, "
                    f"not the declared {model.artifact_sha256}",
                    "update spec.artifact.sha256 if the new artifact is intended",
                )
            )
    if problems:
        raise InputError(problems)


def _deliver(
    client: docker.DockerClient,
    options: BuildOptions,
    settings: images.BuildSettings,
    platform: PlatformInput,
    model: ModelInput,
    runtimes: Mapping[str, str],
    registry: str,
    out: TextIO,
    progress: Progress,
) -> None:
    """Build the model's CPU image, and its GPU image where an environment runs it on a GPU;
    with --push, push them and pin both digests in the first environment."""
    labels = {
        "org.opencontainers.image.source": platform.repository_url,
        "org.opencontainers.image.revision": _revision(options.root),
        "org.opencontainers.image.created": utc_now(),
        "org.opencontainers.image.version": model.version,
        "io.mlgitops.model": model.name,
        "io.mlgitops.version": model.version,
        "io.mlgitops.artifact-sha256": model.artifact_sha256,
    }
    accelerators = ["cpu", "gpu"] if model.gpu_environments else ["cpu"]
    built = {}
    for accelerator in accelerators:
        image = images.build_model_image(
            client,
            options.root,
            name=model.name,
            version=model.version,
            accelerator=accelerator,
            artifact=model.artifact_display,
            runtime=runtimes[accelerator],
            repository=f"{registry}/{model.name}",
            labels=labels | {"io.mlgitops.accelerator": accelerator},
            progress=progress,
            settings=settings,
        )
        progress.event(model.name, f"built {image.reference}")
        built[accelerator] = image
    if not options.push:
        for image in built.values():
            out.write(f"{model.name}: built {image.reference} ({image.image_id})\n")
        return
    digests = {
        accelerator: images.push(client, image, progress) for accelerator, image in built.items()
    }
    first = platform.environments[0]
    release_file = options.root / "models" / model.name / "release.yaml"
    display = f"models/{model.name}/release.yaml"
    release = read_release(release_file, display, model.name)
    repository = built["cpu"].repository
    pin = Pin(repository, digests["cpu"], model.version, utc_now(), digests.get("gpu"))
    write_release(release_file, release.with_pin(first, pin), platform.environments)
    pushed = " and ".join(image.reference for image in built.values())
    pinned = " and ".join(filter(None, (pin.reference, pin.gpu_reference)))
    out.write(f"{model.name}: pushed {pushed}; pinned {pinned} in {first}\n")


def _revision(root: Path) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def execute_promote(options: PromoteOptions, out: TextIO, err: TextIO) -> int:
    try:
        platform = load_platform(options.root)
        load_model(options.root, options.model)
        display = f"models/{options.model}/release.yaml"
        release_file = options.root / display
        release = read_release(release_file, display, options.model)
        promotion = plan_promotion(
            release,
            platform.environments,
            options.target,
            source=options.source,
            pinned_at=utc_now(),
        )
    except InputError as error:
        _report(err, error.problems)
        return EXIT_INVALID
    except PromotionError as error:
        err.write(f"mlgitops promote: {error}\n")
        return EXIT_INVALID
    if promotion.changed:
        updated = release.with_pin(promotion.target, promotion.after)
        write_release(release_file, updated, platform.environments)
    out.write(describe(promotion) + "\n")
    return EXIT_OK


def _report(err: TextIO, problems: Sequence[Problem]) -> None:
    for problem in problems:
        err.write(format_text(problem) + "\n")
