"""``mlgitops fetch``: download a model's artifact into the cache, checked against model.yaml;
and the files ``mlgitops build`` puts in a model's image, each checked (fetched when missing).

Everything is staged first and reaches the cache only when every file of the model (the graph
and each external data file) has its recorded sha256: a failed fetch leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.artifacts.cache import ArtifactCache
from generator.artifacts.external import ExternalDataError, NotOnnxError, external_locations
from generator.artifacts.lfs import LFS_HINT
from generator.artifacts.reference import Reference, RegistryModel, UriError, parse_uri
from generator.artifacts.sources import FetchError, Locator, Origin, download, resolve
from generator.check.artifact_files import GRAPH_NAME, data_file, graph_file
from generator.check.artifacts import artifact_field, listing_problems, source_problems, verify_file
from generator.digest import file_sha256
from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.yamlsource import PathKey
from generator.problems import InputError, Problem, Severity


@dataclass(frozen=True)
class Fetched:
    """What a fetch did for one model, in words for the user."""

    model: str
    summary: str


def fetch_model(layout: RepoLayout, model: ModelSource, cache: ArtifactCache) -> Fetched:
    """Bring every file of ``model``'s uri artifact into ``cache``; raises InputError with
    problems located in model.yaml (nothing is added to the cache then)."""
    if not model.artifact_uri:
        return Fetched(model.name, f"in the repository ({model.artifact_path}); nothing to fetch")
    doc = model.document
    try:
        reference = parse_uri(model.artifact_uri)
    except UriError as error:
        raise InputError(
            [doc.problem(("spec", "artifact", "uri"), str(error), error.hint)]
        ) from error
    wanted = [model.artifact_sha256, *(entry.sha256 for entry in model.external_data)]
    if all(cache.has(sha256) for sha256 in wanted):
        return Fetched(model.name, f"{model.artifact_uri}: already in the cache")
    try:
        origin = resolve(reference)
    except FetchError as error:
        raise InputError(
            [doc.problem(("spec", "artifact", "uri"), str(error), error.hint)]
        ) from error
    with cache.staging() as stage:
        staged: dict[str, Path] = {}
        graph = cache.path(model.artifact_sha256)
        if not cache.has(model.artifact_sha256):
            graph = _fetch_file(model, origin.graph, stage / "graph", ("spec", "artifact", "uri"))
            actual = file_sha256(graph)
            if actual != model.artifact_sha256:
                raise InputError([_mismatch(model, reference, origin, actual)])
            staged[actual] = graph
        locations = _locations(model, graph)
        problems = list(listing_problems(layout, model, locations))
        if problems:
            raise InputError(problems)
        for index, entry in enumerate(model.external_data):
            if cache.has(entry.sha256) or entry.sha256 in staged:
                continue
            field: PathKey = ("spec", "artifact", "externalData", index)
            local = _fetch_file(
                model, origin.data_file(entry.path), stage / f"data-{index}", (*field, "path")
            )
            actual = file_sha256(local)
            if actual != entry.sha256:
                raise InputError(
                    [
                        doc.problem(
                            (*field, "sha256"),
                            f"{entry.path} beside {model.artifact_uri} has sha256 {actual}, "
                            "not the one written here",
                            f"if the new data file is intended, set sha256: {actual}",
                        )
                    ]
                )
            staged[actual] = local
        for sha256, path in staged.items():
            cache.add(path, sha256)
    resolved = f" (now {origin.resolved})" if origin.resolved else ""
    return Fetched(
        model.name, f"{model.artifact_uri}{resolved}: fetched {len(staged)} file(s), verified"
    )


def _fetch_file(model: ModelSource, locator: Locator, target: Path, field: PathKey) -> Path:
    try:
        download(locator, target)
    except FetchError as error:
        raise InputError([model.document.problem(field, str(error), error.hint)]) from error
    return target


def _locations(model: ModelSource, graph: Path) -> list[str]:
    try:
        return external_locations(graph)
    except ExternalDataError as error:
        raise InputError(
            [
                model.document.problem(
                    artifact_field(model),
                    f"{model.artifact_uri}: {error}",
                    "register an ONNX model whose external data lies beside the graph",
                )
            ]
        ) from error


def _mismatch(model: ModelSource, reference: Reference, origin: Origin, actual: str) -> Problem:
    uri = model.artifact_uri
    if isinstance(reference, RegistryModel) and reference.alias:
        message = (
            f"{uri} now names {origin.resolved}, whose artifact has sha256 {actual}, "
            "not the one written here: the alias has moved"
        )
        hint = (
            "pin the reviewed version (models:/NAME/VERSION) in spec.artifact.uri, or if "
            f"{origin.resolved} is intended, set sha256: {actual}"
        )
    else:
        message = f"{uri} has sha256 {actual}, not the one written here"
        hint = f"if the new artifact is intended, set sha256: {actual}"
    return model.document.problem(("spec", "artifact", "sha256"), message, hint)


def image_files(layout: RepoLayout, model: ModelSource, cache: ArtifactCache) -> dict[str, Path]:
    """Every file the model's image holds (its name in the model's folder there -> the file
    here), each checked against its sha256; a uri artifact missing from the cache is fetched
    first. Raises InputError when any file is missing, differs or is only a Git LFS pointer."""
    problems = list(source_problems(layout, model))
    if problems:
        raise InputError(problems)
    if model.artifact_uri:
        fetch_model(layout, model, cache)
    graph = graph_file(layout, model, cache)
    files = {GRAPH_NAME: graph}
    try:
        locations = external_locations(graph.local) if graph.local is not None else []
    except NotOnnxError:
        locations = []  # the signature check reports a graph that is not ONNX
    except ExternalDataError as error:
        raise InputError(
            [model.document.problem(artifact_field(model), f"{graph.shown}: {error}")]
        ) from error
    if graph.local is not None:
        problems += listing_problems(layout, model, locations)
    for index, entry in enumerate(model.external_data):
        if entry.path in locations:
            files[entry.path] = data_file(layout, model, index, cache)
    for file in files.values():
        problems += [p for p in verify_file(model, file) if p.severity is Severity.ERROR]
        if file.local is None and file.pointer is not None and file.pointer.oid == file.sha256:
            problems.append(
                model.document.problem(
                    file.field,
                    f"{file.shown} is a Git LFS pointer and its content is not here",
                    LFS_HINT,
                )
            )
        elif file.local is None and file.pointer is None:
            problems.append(model.document.problem(file.field, f"{file.shown} does not exist"))
    if problems:
        raise InputError(problems)
    return {name: file.local for name, file in files.items() if file.local is not None}
