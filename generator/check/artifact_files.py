"""Where each file of a model's artifact can be read on this machine: the graph and the
external data files it references, from the model folder or from the cache.

Both ``validate`` (which reads what is here and notes what is not) and ``build`` (which needs
every byte) start from this list, so they agree on what a model is made of.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from generator.artifacts.cache import ArtifactCache
from generator.artifacts.lfs import Pointer, read_pointer
from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.yamlsource import PathKey

GRAPH_NAME = "model.onnx"
"""The graph's name in the image (serving/Dockerfile.model copies the model folder to /models/,
and MODEL_PATH is /models/model.onnx); data files keep the locations the graph records."""
GRAPH_SHA256: PathKey = ("spec", "artifact", "sha256")


@dataclass(frozen=True)
class ArtifactFile:
    """One file of a model's artifact and where (if anywhere) its bytes are here."""

    name: str
    """Its path inside the model's folder in the image."""
    sha256: str
    """The digest model.yaml records for it."""
    field: PathKey
    """Where model.yaml records that digest: errors about the file's bytes point there."""
    shown: str
    """How messages name it: a repository path or a uri."""
    local: Path | None
    """A file here holding exactly its bytes (unchecked until hashed), or None."""
    pointer: Pointer | None = None
    """The Git LFS pointer the model folder holds in its place, if it does."""
    cached: bool = False


def graph_file(layout: RepoLayout, model: ModelSource, cache: ArtifactCache) -> ArtifactFile:
    """The graph: the folder's file for ``path`` (a pointer falls back to the cache), the
    cache's copy for ``uri``. The caller has checked that a ``path`` stays inside the folder."""
    if model.artifact_uri:
        return _cached(GRAPH_NAME, model.artifact_sha256, GRAPH_SHA256, model.artifact_uri, cache)
    candidate = layout.model_dir(model.folder) / model.artifact_path
    return _in_folder(
        GRAPH_NAME,
        model.artifact_sha256,
        GRAPH_SHA256,
        layout.relative(candidate),
        candidate,
        cache,
    )


def data_file(
    layout: RepoLayout, model: ModelSource, index: int, cache: ArtifactCache
) -> ArtifactFile:
    """The external data file ``spec.artifact.externalData[index]``; for ``path`` it lies
    beside the graph in the folder, for ``uri`` beside the graph at the source."""
    entry = model.external_data[index]
    field: PathKey = ("spec", "artifact", "externalData", index, "sha256")
    if model.artifact_uri:
        shown = f"{entry.path} (beside {model.artifact_uri})"
        return _cached(entry.path, entry.sha256, field, shown, cache)
    graph = PurePosixPath(model.artifact_path).parent
    candidate = layout.model_dir(model.folder) / graph / entry.path
    return _in_folder(entry.path, entry.sha256, field, layout.relative(candidate), candidate, cache)


def leaves_folder(layout: RepoLayout, model: ModelSource, relative: str) -> str:
    """Why a path relative to the model folder is not inside it ("" when it is)."""
    if Path(relative).is_absolute() or ".." in PurePosixPath(relative).parts:
        return f"{relative!r} leaves the model folder"
    folder = layout.model_dir(model.folder).resolve()
    if not (layout.model_dir(model.folder) / relative).resolve().is_relative_to(folder):
        return f"{relative!r} is a link that leaves the model folder"
    return ""


def _cached(
    name: str, sha256: str, field: PathKey, shown: str, cache: ArtifactCache
) -> ArtifactFile:
    here = cache.path(sha256) if cache.has(sha256) else None
    return ArtifactFile(name, sha256, field, shown, here, cached=here is not None)


def _in_folder(
    name: str, sha256: str, field: PathKey, shown: str, candidate: Path, cache: ArtifactCache
) -> ArtifactFile:
    if not candidate.is_file():
        return ArtifactFile(name, sha256, field, shown, None)
    pointer = read_pointer(candidate)
    if pointer is None:
        return ArtifactFile(name, sha256, field, shown, candidate)
    # A pointer's bytes are the pointer: the real file may still be in the cache (fetched or
    # built before), under the sha256 the pointer and model.yaml both name.
    cached = _cached(name, sha256, field, shown, cache)
    usable = pointer.oid == sha256 and cached.local is not None
    return replace(cached, pointer=pointer, local=cached.local if usable else None)
