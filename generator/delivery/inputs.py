"""The few input fields delivery needs, read straight from model.yaml and environments.yaml.

A stand-in until the generator's loader (schema validation, defaults) is wired in: it checks
only what a build or a promotion would otherwise trip over, and reports it with a position.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.problems import InputError, Problem
from generator.yamlsource import Document, load_file


@dataclass(frozen=True)
class ModelInput:
    name: str
    version: str
    artifact: Path
    artifact_display: str
    artifact_sha256: str
    source: str
    sha256_mark: tuple[int, int]
    """Line and column of spec.artifact.sha256, where a hash mismatch is reported."""


@dataclass(frozen=True)
class PlatformInput:
    registry: str
    repository_url: str
    environments: tuple[str, ...]


def load_platform(root: Path) -> PlatformInput:
    document = load_file(root / "environments.yaml", "environments.yaml")
    registry = _string(document, ("registry",))
    url = _string(document, ("repository", "url"))
    entries = _field(document, ("environments",))
    if not isinstance(entries, list) or not entries:
        raise InputError([document.problem(("environments",), "environments must be a list")])
    names = tuple(_string(document, ("environments", i, "name")) for i in range(len(entries)))
    return PlatformInput(registry, url, names)


def model_names(root: Path) -> list[str]:
    folder = root / "models"
    if not folder.is_dir():
        return []
    return sorted(entry.name for entry in folder.iterdir() if (entry / "model.yaml").is_file())


def load_model(root: Path, name: str) -> ModelInput:
    display = f"models/{name}/model.yaml"
    path = root / display
    if not path.is_file():
        known = ", ".join(model_names(root)) or "none"
        raise InputError([Problem(display, 0, 0, f"no model named {name!r} (known: {known})")])
    document = load_file(path, display)
    declared = _string(document, ("metadata", "name"))
    if declared != name:
        message = f"name {declared!r} differs from its folder {name!r}"
        raise InputError([document.problem(("metadata", "name"), message)])
    artifact = _string(document, ("spec", "artifact", "path"))
    mark = document.mark(("spec", "artifact", "sha256"))
    return ModelInput(
        name=name,
        version=_string(document, ("spec", "version")),
        artifact=path.parent / artifact,
        artifact_display=f"models/{name}/{artifact}",
        artifact_sha256=_string(document, ("spec", "artifact", "sha256")),
        source=display,
        sha256_mark=(mark.line, mark.column),
    )


def _field(document: Document, path: tuple[str | int, ...]) -> Any:
    value: Any = document.data
    for key in path:
        missing = (
            not isinstance(value, dict) or key not in value
            if isinstance(key, str)
            else not isinstance(value, list) or key >= len(value)
        )
        if missing:
            shown = ".".join(str(part) for part in path)
            raise InputError([document.problem(path, f"missing field {shown}")])
        value = value[key]
    return value


def _string(document: Document, path: tuple[str | int, ...]) -> str:
    value = _field(document, path)
    if not isinstance(value, str) or not value:
        shown = ".".join(str(part) for part in path)
        raise InputError([document.problem(path, f"{shown} must be a non-empty string")])
    return value
