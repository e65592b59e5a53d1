"""A new artifact, taken in by ``mlgitops init``: its files and digests as they are now."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.artifacts.cache import ArtifactCache
from generator.artifacts.external import external_locations
from generator.artifacts.reference import parse_uri
from generator.artifacts.sources import download, resolve
from generator.digest import file_sha256


@dataclass(frozen=True)
class Adopted:
    """A new artifact taken in by ``mlgitops init --from``: what model.yaml records of it."""

    sha256: str
    external_data: tuple[tuple[str, str], ...]
    """(location, sha256) of each data file the graph references."""
    graph: Path
    """The graph in the cache."""
    resolved: str = ""


def adopt(uri: str, cache: ArtifactCache) -> Adopted:
    """Download a new artifact into the cache and record the digests it has now (there is no
    sha256 to check it against yet: this is where it is first written down).

    Raises UriError, FetchError, or ExternalDataError for a file that is not ONNX (or whose
    data lies outside its folder).
    """
    origin = resolve(parse_uri(uri))
    with cache.staging() as stage:
        graph = stage / "graph"
        download(origin.graph, graph)
        staged = {file_sha256(graph): graph}
        graph_sha256 = next(iter(staged))
        external = []
        for index, location in enumerate(external_locations(graph)):
            local = stage / f"data-{index}"
            download(origin.data_file(location), local)
            digest = file_sha256(local)
            staged[digest] = local
            external.append((location, digest))
        for digest, path in staged.items():
            cache.add(path, digest)
    return Adopted(graph_sha256, tuple(external), cache.path(graph_sha256), origin.resolved)


def external_files(graph: Path) -> list[tuple[str, Path]]:
    """(location, file beside ``graph``) for each data file the graph references."""
    return [(location, graph.parent / location) for location in external_locations(graph)]
