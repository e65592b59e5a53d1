"""Load and check the inputs of a repository: environments.yaml and every models/*/model.yaml.

Every problem of every file is collected before anything is reported, so a pull request sees
all of its mistakes in one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.layout import RepoLayout
from generator.load.inputschema import MODEL_SCHEMA, PLATFORM_SCHEMA, validate_document
from generator.load.modelspec import ModelSource, build_model
from generator.load.platform import Platform, build_platform
from generator.load.yamlsource import Document, load_file
from generator.problems import InputError, Problem


@dataclass
class Inputs:
    layout: RepoLayout
    platform: Platform | None
    models: list[ModelSource] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _load(layout: RepoLayout, path: Path, schema: str) -> tuple[Document | None, list[Problem]]:
    try:
        document = load_file(path, layout.relative(path))
    except InputError as error:
        return None, error.problems
    problems = validate_document(document, schema)
    if not isinstance(document.data, dict):
        return None, problems
    return (None if problems else document), problems


def load_platform(layout: RepoLayout) -> tuple[Platform | None, list[Problem]]:
    document, problems = _load(layout, layout.environments_file, PLATFORM_SCHEMA)
    return (build_platform(document) if document else None), problems


def load_model(layout: RepoLayout, folder: str) -> tuple[ModelSource | None, list[Problem]]:
    document, problems = _load(layout, layout.model_file(folder), MODEL_SCHEMA)
    return (build_model(document, folder) if document else None), problems


def load_inputs(layout: RepoLayout, only: set[str] | None = None) -> Inputs:
    """Load the platform and the models (``only`` restricts which models are read)."""
    platform, problems = load_platform(layout)
    inputs = Inputs(layout, platform, problems=list(problems))
    for folder in layout.model_names():
        if only is not None and folder not in only:
            continue
        model, model_problems = load_model(layout, folder)
        inputs.problems.extend(model_problems)
        if model is not None:
            inputs.models.append(model)
    return inputs
