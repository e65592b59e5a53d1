"""What `mlgitops build` and `mlgitops promote` do, apart from parsing their arguments.

Each function raises an ``MlgitopsError`` when it cannot go on and hands its results to the
``announce`` callback it is given; ``generator.cli.build`` and ``generator.cli.promote`` print
them and choose the exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import docker

from generator.delivery import images
from generator.delivery.changes import changed_models
from generator.delivery.inputs import (
    ModelInput,
    PlatformInput,
    load_model,
    load_models,
    load_platform,
    model_names,
)
from generator.delivery.progress import Progress, progress_for
from generator.delivery.promote import describe, plan_promotion
from generator.delivery.registry import RegistryError
from generator.git import GitError, head_revision
from generator.layout import RepoLayout
from generator.load.release import Pin, read_release, write_release
from generator.problems import InputError, Problem

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


Announce = Callable[[str, Mapping[str, Any] | None], None]
"""Where ``build_images`` and ``promote`` hand each result: a line for people and, where there
is one, the result as data (the CLI prints the line, or collects the data for json)."""


def build_images(
    options: BuildOptions,
    announce: Announce,
    progress_stream: TextIO,
    environ: Mapping[str, str],
) -> None:
    """Build (and with --push, push and pin) the selected models' images; MlgitopsError (an
    InputError for bad inputs, a usage error for a missing engine or registry) when it cannot."""
    platform = load_platform(options.root)
    try:
        models = _selected_models(options, announce)
    except GitError as error:
        raise GitError(f"--changed-since {options.changed_since}: {error}") from None
    if not models:
        return
    artifacts = _check_artifacts(options.root, models)
    try:
        client = images.connect()
    except images.EngineUnavailable as error:
        error.hint = START_HINT
        raise
    progress = progress_for(progress_stream)
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
            _deliver(
                client,
                options,
                settings,
                platform,
                model,
                artifacts[model.name],
                runtimes,
                registry,
                announce,
                progress,
            )
    except RegistryError as error:
        raise RegistryError(f"registry {registry}: {error}") from None


def _selected_models(options: BuildOptions, announce: Announce) -> list[ModelInput]:
    names = list(options.models) or model_names(options.root)
    models = load_models(options.root, names)
    if options.changed_since is None:
        return models
    changed = set(changed_models(options.root, options.changed_since, names))
    if not changed:
        announce(f"no model changed since {options.changed_since}", None)
    return [model for model in models if model.name in changed]


def _check_artifacts(root: Path, models: Sequence[ModelInput]) -> dict[str, dict[str, Path]]:
    """Every artifact before any build: a wrong hash must not cost a runtime build first.
    Registry and bucket artifacts missing from the cache are fetched here."""
    from generator.artifacts.cache import default_cache
    from generator.delivery.fetch import image_files

    layout, cache = RepoLayout(root), default_cache()
    problems: list[Problem] = []
    files = {}
    for model in models:
        try:
            files[model.name] = image_files(layout, model.spec, cache)
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    return files


def _deliver(
    client: docker.DockerClient,
    options: BuildOptions,
    settings: images.BuildSettings,
    platform: PlatformInput,
    model: ModelInput,
    files: Mapping[str, Path],
    runtimes: Mapping[str, str],
    registry: str,
    announce: Announce,
    progress: Progress,
) -> None:
    """Build the model's CPU image, and its GPU image where an environment runs it on a GPU;
    with --push, push them and pin both digests in the first environment."""
    labels = {
        "org.opencontainers.image.source": platform.repository_url,
        "org.opencontainers.image.revision": head_revision(options.root),
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
            files=files,
            runtime=runtimes[accelerator],
            repository=f"{registry}/{model.name}",
            labels=labels | {"io.mlgitops.accelerator": accelerator},
            progress=progress,
            settings=settings,
        )
        progress.event(model.name, f"built {image.reference}")
        built[accelerator] = image
    if not options.push:
        for accelerator, image in built.items():
            announce(
                f"{model.name}: built {image.reference} ({image.image_id})",
                {
                    "model": model.name,
                    "accelerator": accelerator,
                    "image": image.reference,
                    "id": image.image_id,
                },
            )
        return
    digests = {
        accelerator: images.push(client, image, progress) for accelerator, image in built.items()
    }
    first = platform.environments[0]
    layout = RepoLayout(options.root)
    release_file = layout.release_file(model.name)
    display = layout.relative(release_file)
    release = read_release(release_file, display, model.name)
    repository = built["cpu"].repository
    pin = Pin(repository, digests["cpu"], model.version, utc_now(), digests.get("gpu"))
    write_release(release_file, release.with_pin(first, pin), platform.environments)
    pushed = " and ".join(image.reference for image in built.values())
    pinned = " and ".join(filter(None, (pin.reference, pin.gpu_reference)))
    announce(
        f"{model.name}: pushed {pushed}; pinned {pinned} in {first}",
        {
            "model": model.name,
            "pushed": [image.reference for image in built.values()],
            "pinned": [ref for ref in (pin.reference, pin.gpu_reference) if ref],
            "environment": first,
        },
    )


def promote(options: PromoteOptions, announce: Announce) -> None:
    """Copy the source environment's pin into the target's entry of release.yaml; InputError
    or PromotionError (exit 1) when the inputs do not allow it, and nothing is written then."""
    platform = load_platform(options.root)
    load_model(options.root, options.model)
    layout = RepoLayout(options.root)
    release_file = layout.release_file(options.model)
    display = layout.relative(release_file)
    release = read_release(release_file, display, options.model)
    promotion = plan_promotion(
        release,
        platform.environments,
        options.target,
        source=options.source,
        pinned_at=utc_now(),
    )
    if promotion.changed:
        updated = release.with_pin(promotion.target, promotion.after)
        write_release(release_file, updated, platform.environments)
    before = promotion.before
    announce(
        describe(promotion),
        {
            "model": promotion.model,
            "source": promotion.source,
            "target": promotion.target,
            "changed": promotion.changed,
            "before": before.reference if before else None,
            "after": promotion.after.reference,
        },
    )
