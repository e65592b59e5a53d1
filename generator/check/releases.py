"""Image pins per environment (models/<name>/release.yaml, written by ``mlgitops build --push``
and ``mlgitops promote``), as the generator reads them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.platform import Environment
from generator.load.release import Pin, Release, image_tag, read_release
from generator.problems import InputError, Problem, Severity


def load_release(layout: RepoLayout, model: str) -> tuple[Release, list[Problem]]:
    path = layout.release_file(model)
    try:
        return read_release(path, layout.relative(path), model), []
    except InputError as error:
        return Release(model), error.problems


def release_problems(
    model: ModelSource, env: Environment, pin: Pin | None, accelerator: str
) -> Iterator[Problem]:
    if env.require_digest and pin is None:
        yield model.document.problem(
            ("metadata", "name"),
            f"environment {env.name!r} requires a pinned image digest and "
            f"{model.name} has none there",
            f"run 'mlgitops promote {model.name} --to {env.name}' (after 'mlgitops build "
            f"{model.name} --push' pinned the first environment)",
        )
    elif pin is not None and pin.digest_for(accelerator) is None:
        problem = model.document.problem(
            ("metadata", "name"),
            f"{model.name} runs on a GPU in {env.name!r}, but its pin there has no gpuDigest "
            "(its image was built while the model used no GPU anywhere)",
            f"run 'mlgitops build {model.name} --push', which now builds the GPU image too, "
            f"and promote it to {env.name!r}",
        )
        if env.require_digest:
            yield problem
        else:
            yield replace(
                problem,
                message=problem.message + f"; {env.name} runs the unpinned ':"
                f"{image_tag(model.version, accelerator)}' tag meanwhile",
                severity=Severity.WARNING,
            )
    elif pin is not None and pin.version != model.version:
        yield replace(
            model.document.problem(
                ("spec", "version"),
                f"{env.name} is pinned to the image of version {pin.version}, not {model.version}",
                f"the pin wins until 'mlgitops build {model.name} --push' and 'mlgitops promote "
                f"{model.name} --to {env.name}' move it",
            ),
            severity=Severity.WARNING,
        )
