"""What ``validate`` checks of an artifact: every file it can read here (in the model folder or
in the cache) against its recorded sha256, the signature, and the external data files the graph
references against ``spec.artifact.externalData``. A file it cannot read (a registry artifact
not fetched yet, a Git LFS pointer whose content is not here) is named in a note, never an
error: a pull request checked offline does not fail for that alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import PurePosixPath

from generator.artifacts.cache import ArtifactCache, default_cache
from generator.artifacts.external import LocationError, NotOnnxError, external_locations
from generator.artifacts.lfs import LFS_HINT
from generator.artifacts.reference import UriError, parse_uri
from generator.check.artifact_files import (
    GRAPH_NAME,
    ArtifactFile,
    data_file,
    graph_file,
    leaves_folder,
)
from generator.digest import file_sha256
from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.signature import SignatureError, differences, read_signature
from generator.load.yamlsource import PathKey
from generator.problems import Problem, Severity


def artifact_field(model: ModelSource) -> PathKey:
    """Where model.yaml says where the artifact is: errors about the source point there."""
    return ("spec", "artifact", "uri" if model.artifact_uri else "path")


def check_artifact(
    layout: RepoLayout, model: ModelSource, cache: ArtifactCache | None = None
) -> Iterator[Problem]:
    """Every problem (and note) of the model's artifact files; ``cache`` defaults to the
    environment's (``$XDG_CACHE_HOME/mlgitops``)."""
    cache = cache or default_cache()
    problems = list(source_problems(layout, model))
    if problems:
        yield from problems
        return
    graph = graph_file(layout, model, cache)
    yield from verify_file(model, graph)
    if graph.local is not None:
        yield from check_signature(model, graph)
        yield from check_external_data(layout, model, graph, cache)
    yield from _notes(model, cache)


def source_problems(layout: RepoLayout, model: ModelSource) -> Iterator[Problem]:
    """A uri no source understands; a path outside the model folder or missing."""
    doc = model.document
    if model.artifact_uri:
        try:
            parse_uri(model.artifact_uri)
        except UriError as error:
            yield doc.problem(("spec", "artifact", "uri"), str(error), error.hint)
        return
    where = ("spec", "artifact", "path")
    reason = leaves_folder(layout, model, model.artifact_path)
    if reason:
        linked = "link" in reason
        yield doc.problem(
            where,
            f"artifact {reason}" if linked else f"artifact path {reason}",
            "copy the artifact into the model folder instead of linking to it"
            if linked
            else "give a path inside the model folder, such as model.onnx",
        )
        return
    candidate = layout.model_dir(model.folder) / model.artifact_path
    if not candidate.is_file():
        yield doc.problem(
            where,
            f"artifact {layout.relative(candidate)} does not exist",
            "add the file, or fix spec.artifact.path",
        )


def verify_file(model: ModelSource, file: ArtifactFile) -> Iterator[Problem]:
    """Errors for bytes that differ from the recorded sha256 (an LFS pointer's oid counts)."""
    doc = model.document
    if file.pointer is not None and file.pointer.oid != file.sha256:
        yield doc.problem(
            file.field,
            f"{file.shown} is a Git LFS pointer to sha256 {file.pointer.oid}, "
            "not the one written here",
            f"if the new artifact is intended, set sha256: {file.pointer.oid}",
        )
        return
    if file.local is None:
        if file.pointer is not None:
            yield lfs_note(model, file)
        return
    actual = file_sha256(file.local)
    if actual == file.sha256:
        return
    if file.cached:
        yield doc.problem(
            file.field,
            f"the cached copy of {file.shown} ({file.local}) has sha256 {actual}: it is damaged",
            f"delete {file.local}; `mlgitops fetch {model.name}` downloads it again",
        )
    else:
        yield doc.problem(
            file.field,
            f"sha256 of {file.shown} is {actual}, not the one written here",
            f"if the new artifact is intended, set sha256: {actual}",
        )


def check_signature(model: ModelSource, graph: ArtifactFile) -> Iterator[Problem]:
    """An interface change must show up as an edit of spec.signature, not hide in a binary."""
    if model.signature is None or graph.local is None:
        return
    doc = model.document
    try:
        actual = read_signature(graph.local)
    except SignatureError as error:
        yield doc.problem(
            artifact_field(model),
            f"cannot read the signature of {graph.shown}: {error}",
            "export the model as ONNX with tensor inputs and outputs",
        )
        return
    for difference in differences(model.signature, actual):
        yield doc.problem(
            ("spec", "signature"),
            f"{graph.shown} does not match spec.signature: {difference}",
            "if the new interface is intended (clients must change too), "
            f"set signature: {actual.flow()}",
        )


def check_external_data(
    layout: RepoLayout, model: ModelSource, graph: ArtifactFile, cache: ArtifactCache
) -> Iterator[Problem]:
    """The graph's data files against externalData: each listed, each listed one referenced,
    each readable one with the recorded sha256."""
    assert graph.local is not None
    doc = model.document
    try:
        locations = external_locations(graph.local)
    except NotOnnxError:
        return  # check_signature (or build) reports a graph that is not ONNX
    except LocationError as error:
        yield doc.problem(
            artifact_field(model),
            f"{graph.shown}: {error}",
            "save the model with its data beside it: onnx.save_model(model, path, "
            "save_as_external_data=True, location='model.onnx.data')",
        )
        return
    yield from listing_problems(layout, model, locations)
    graph_folder = PurePosixPath(model.artifact_path).parent
    for index, entry in enumerate(model.external_data):
        if entry.path not in locations:
            continue
        if not model.artifact_uri:
            reason = leaves_folder(layout, model, str(graph_folder / entry.path))
            if reason:
                yield doc.problem(
                    ("spec", "artifact", "externalData", index, "path"),
                    f"external data file {reason}",
                    "copy the file beside the graph instead of linking to it",
                )
                continue
        file = data_file(layout, model, index, cache)
        if file.local is None and file.pointer is None and not model.artifact_uri:
            yield doc.problem(
                ("spec", "artifact", "externalData", index, "path"),
                f"{file.shown}, which the graph references, does not exist",
                "add the file beside the graph, or export the model again",
            )
            continue
        yield from verify_file(model, file)


def listing_problems(
    layout: RepoLayout, model: ModelSource, locations: list[str]
) -> Iterator[Problem]:
    """Referenced but not listed, and listed but not referenced."""
    doc = model.document
    listed = [entry.path for entry in model.external_data]
    graph_folder = layout.model_dir(model.folder) / PurePosixPath(model.artifact_path).parent
    for location in locations:
        if location in listed:
            continue
        local = graph_folder / location
        digest = (
            file_sha256(local)
            if not model.artifact_uri and local.is_file()
            else "<sha256 of the file>"
        )
        yield doc.problem(
            ("spec", "artifact", "externalData" if listed else "sha256"),
            f"the graph keeps tensors in {location!r}, which spec.artifact.externalData "
            "does not list",
            f"add {{path: {location}, sha256: {digest}}} to spec.artifact.externalData",
            key=not listed,
        )
    for index, path in enumerate(listed):
        if path not in locations:
            yield doc.problem(
                ("spec", "artifact", "externalData", index, "path"),
                f"spec.artifact.externalData lists {path!r}, which the graph does not reference",
                "remove the entry (the image holds only the files the graph reads)",
            )


def _notes(model: ModelSource, cache: ArtifactCache) -> Iterator[Problem]:
    """One note for the registry or bucket files that are not in the cache yet."""
    if not model.artifact_uri:
        return
    missing = [entry.path for entry in model.external_data if not cache.has(entry.sha256)]
    if not cache.has(model.artifact_sha256):
        missing.insert(0, model.artifact_uri)
    if missing:
        yield _note(
            model,
            artifact_field(model),
            f"not checked here: {', '.join(missing)} not in the artifact cache "
            "(sha256, signature and external data are checked once fetched)",
            f"run `mlgitops fetch {model.name}` where the source is reachable",
        )


def _note(model: ModelSource, field: PathKey, message: str, hint: str) -> Problem:
    return replace(model.document.problem(field, message, hint), severity=Severity.NOTE)


def lfs_note(model: ModelSource, file: ArtifactFile) -> Problem:
    """A pointer whose oid is the recorded sha256: right, but its content is not here."""
    checked = (
        "its content was not checked"
        if file.name != GRAPH_NAME
        else ("the signature and the external data were not checked")
    )
    return _note(
        model,
        file.field,
        f"{file.shown} is a Git LFS pointer whose oid matches sha256; {checked} "
        "(build needs the content)",
        LFS_HINT,
    )
