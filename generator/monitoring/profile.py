"""``mlgitops profile``: the reference profile of a model, from reference data run through the
model with ONNX Runtime, written to ``models/<name>/profile.json``.

Per input feature: bin edges at the reference's quantiles (``bins`` bins, fewer where quantiles
coincide, open-ended at both ends) and the share of the reference in each bin. Per output
column: its classes and their shares (integer, boolean or string outputs) or bin edges and
shares (floating-point outputs). Plus the row count, the data file's sha256 and the artifact's
sha256, which ``validate`` compares with model.yaml (a profile of another artifact is stale).

The server (`serving.drift`) counts live traffic with the same `bin_counts`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generator.monitoring.reference import Reference, read_reference
from generator.problems import InputError, Problem
from generator.render.drift import EPSILON
from serving.drift import PROFILE_KIND, bin_counts, class_labels, columns, is_class_datatype

DEFAULT_BINS = 10
MIN_ROWS_PER_BIN = 5
"""Quantile edges from fewer rows per bin move with every resample of the data."""
MAX_CLASSES = 100
"""A class output with more labels than this is profiled as bins would be, or not at all."""


@dataclass(frozen=True)
class InputColumns:
    """One ONNX input that the profile reads from the reference columns."""

    tensor: str
    width: int
    dtype: np.dtype[Any]
    shape: tuple[int, ...]


def _numpy_type(ort_type: str) -> np.dtype[Any] | None:
    names = {
        "tensor(float)": "float32",
        "tensor(double)": "float64",
        "tensor(float16)": "float16",
        "tensor(int64)": "int64",
        "tensor(int32)": "int32",
        "tensor(int16)": "int16",
        "tensor(int8)": "int8",
        "tensor(uint8)": "uint8",
    }
    name = names.get(ort_type)
    return np.dtype(name) if name else None


def input_columns(session: Any, artifact: str) -> list[InputColumns]:
    """The model's inputs as reference columns: numeric tensors of shape [N] or [N, k].
    ``artifact`` names the model file in messages; raises InputError for other inputs."""
    result = []
    for arg in session.get_inputs():
        dtype = _numpy_type(arg.type)
        shape = list(arg.shape or [])
        fixed = [d for d in shape[1:] if isinstance(d, int)]
        if dtype is None or len(shape) not in (1, 2) or len(fixed) != len(shape) - 1:
            raise InputError(
                [
                    Problem(
                        artifact,
                        0,
                        0,
                        f"input {arg.name!r} ({arg.type}, shape {shape}) cannot be profiled: "
                        "profiles take numeric inputs shaped [N] or [N, k] with a fixed k",
                        "profile a model whose inputs are numeric feature vectors",
                    )
                ]
            )
        width = fixed[0] if fixed else 1
        result.append(InputColumns(arg.name, width, dtype, (-1, width) if fixed else (-1,)))
    return result


def _feature_names(inputs: Sequence[InputColumns], reference: Reference) -> list[str]:
    if reference.names is not None:
        return list(reference.names)
    names = []
    for item in inputs:
        names += (
            [item.tensor]
            if len(item.shape) == 1
            else [f"{item.tensor}[{j}]" for j in range(item.width)]
        )
    return names


def _check_names(names: Sequence[str], shown: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not name or len(name) > 63 or not name.isprintable() or name in seen:
            raise InputError(
                [
                    Problem(
                        shown,
                        1,
                        1,
                        f"header column {index + 1} {name!r}: feature names must be unique, "
                        "printable and 1 to 63 characters long (they become label values)",
                        "rename the column, or drop the header to get names like input[0]",
                    )
                ]
            )
        seen.add(name)


def binned(values: np.ndarray, bins: int) -> dict[str, Any]:
    """Quantile edges (duplicates merged) and the share of ``values`` in each bin."""
    quantiles = np.quantile(values.astype(np.float64), np.arange(1, bins) / bins)
    edges = np.unique(quantiles)
    counts = bin_counts(values, edges)
    return {
        "edges": [float(e) for e in edges],
        "proportions": [float(c) / len(values) for c in counts],
    }


def _classes(values: np.ndarray) -> dict[str, Any] | None:
    unique, counts = np.unique(values, return_counts=True)
    if len(unique) > MAX_CLASSES:
        return None
    return {
        "classes": class_labels(unique).tolist(),
        "proportions": [float(c) / len(values) for c in counts],
    }


def _feeds(inputs: Sequence[InputColumns], values: np.ndarray) -> dict[str, np.ndarray]:
    feeds, start = {}, 0
    for item in inputs:
        block = values[:, start : start + item.width].astype(item.dtype)
        feeds[item.tensor] = block.reshape(-1) if len(item.shape) == 1 else block
        start += item.width
    return feeds


def compute_profile(
    *,
    model: str,
    artifact: Path,
    shown_artifact: str,
    artifact_sha256: str,
    data: Path,
    shown_data: str,
    recorded_data: str,
    bins: int = DEFAULT_BINS,
) -> dict[str, Any]:
    """The profile document of ``artifact`` on the reference data at ``data``.

    Raises InputError (located at ``shown_data`` or the artifact) for reference data that does
    not fit the model's inputs, has too few rows for ``bins``, or an input the model rejects.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(artifact), sess_options=options)
    inputs = input_columns(session, shown_artifact)
    width = sum(i.width for i in inputs)
    layout = ", ".join(f"{i.tensor}: {i.width}" for i in inputs)
    reference = read_reference(data, shown_data, width, layout)
    rows = reference.values.shape[0]
    if rows < bins * MIN_ROWS_PER_BIN:
        raise InputError(
            [
                Problem(
                    shown_data,
                    1,
                    1,
                    f"{rows} rows are too few for {bins} bins: quantiles need at least "
                    f"{MIN_ROWS_PER_BIN} rows per bin ({bins * MIN_ROWS_PER_BIN} rows)",
                    f"give more reference rows, or fewer bins (--bins {max(2, rows // 5)})",
                )
            ]
        )
    names = _feature_names(inputs, reference)
    _check_names(names, shown_data)
    feeds = _feeds(inputs, reference.values)
    try:
        results = session.run(None, feeds)
    except Exception as e:  # ONNX Runtime raises its own, unexported exception types.
        raise InputError(
            [Problem(shown_data, 1, 1, f"the model rejected the reference data: {e}")]
        ) from e
    features = []
    start = 0
    for item in inputs:
        table = columns(feeds[item.tensor])
        for j in range(item.width):
            features.append(
                {
                    "name": names[start + j],
                    "tensor": item.tensor,
                    "column": j,
                    **binned(table[:, j], bins),
                }
            )
        start += item.width
    outputs = []
    for arg, result in zip(session.get_outputs(), results, strict=True):
        array = np.asarray(result)
        if array.dtype.kind not in "biufOSU" or array.ndim == 0:
            continue
        table = columns(array)
        for j in range(table.shape[1]):
            name = arg.name if table.shape[1] == 1 else f"{arg.name}[{j}]"
            values = table[:, j]
            if is_class_datatype(values):
                described = _classes(values)
                if described is None:
                    continue
            else:
                described = binned(values[np.isfinite(values)], bins)
            outputs.append({"name": name, "tensor": arg.name, "column": j, **described})
    return {
        "apiVersion": "mlgitops/v1",
        "kind": PROFILE_KIND,
        "model": model,
        "artifact": {"sha256": artifact_sha256},
        "data": {"file": recorded_data, "sha256": reference.sha256, "rows": rows},
        "bins": bins,
        "epsilon": EPSILON,
        "features": features,
        "outputs": outputs,
    }


def dump_profile(document: dict[str, Any]) -> str:
    """One line per bin list keeps diffs of a re-profiled model readable."""
    return json.dumps(document, indent=2) + "\n"


def write_profile(path: Path, text: str) -> None:
    """Replace ``path`` atomically: a failed run leaves the previous profile in place."""
    descriptor, temporary = tempfile.mkstemp(prefix=".profile-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
