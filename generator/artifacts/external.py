"""ONNX external data: the files a graph keeps its large tensors in (``model.onnx.data``).

A graph saved with external data records, for each such tensor, a ``location`` relative to the
graph's own folder (ONNX's external data format, docs/ExternalData.md in onnx/onnx); ONNX Runtime
reads the files from there when it loads the model. They are found here from the graph itself,
never from the folder's listing, so a stray file is not shipped and a missing one is named.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from generator.errors import MlgitopsError

if TYPE_CHECKING:
    import onnx


class ExternalDataError(MlgitopsError):
    """The graph's external data cannot be listed; the message says why."""


class NotOnnxError(ExternalDataError):
    """The file is not an ONNX model."""


class LocationError(ExternalDataError):
    """A graph names a data file outside its own folder (which ONNX itself refuses to read)."""


def load_graph(path: Path) -> onnx.ModelProto:
    """The ONNX model in ``path`` without its external data (NotOnnxError when it is none).

    validate reads each graph twice in a row (its signature, then its data files): the last
    two parses are kept, keyed by the file's identity, so a large graph is parsed once.
    """
    try:
        status = path.stat()
    except OSError as error:
        raise NotOnnxError(f"not an ONNX model ({error})") from error
    return _parse(str(path), status.st_mtime_ns, status.st_size, status.st_ino)


@lru_cache(maxsize=2)
def _parse(path: str, mtime_ns: int, size: int, inode: int) -> onnx.ModelProto:
    import onnx
    from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

    del mtime_ns, size, inode  # part of the cache key only
    try:
        return onnx.load(path, load_external_data=False)
    except (DecodeError, OSError, ValueError, RuntimeError) as error:
        raise NotOnnxError(f"not an ONNX model ({error})") from error


def external_locations(graph_file: Path) -> list[str]:
    """The distinct data file locations ``graph_file`` references, sorted.

    Raises NotOnnxError when the file is not an ONNX model and LocationError when a location
    is absolute or climbs out of the graph's folder.
    """
    import onnx

    model = load_graph(graph_file)
    locations = set()
    for tensor in _tensors(model.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {entry.key: entry.value for entry in tensor.external_data}
        location = entries.get("location", "")
        parts = PurePosixPath(location).parts
        if not location or location.startswith(("/", "\\")) or ".." in parts or "\\" in location:
            raise LocationError(
                f"tensor {tensor.name!r} keeps its data at {location!r}, outside the graph's folder"
            )
        locations.add(str(PurePosixPath(location)))
    return sorted(locations)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    """Every tensor of a graph: initializers, sparse initializers' parts and node attributes,
    subgraphs (If, Loop, Scan bodies) included."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _tensors(subgraph)
