"""An ONNX model loaded into one ONNX Runtime session, with its signature in protocol terms."""

from __future__ import annotations

import ctypes
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

from serving.datatypes import BF16, BY_ORT_TYPE, Datatype

log = logging.getLogger(__name__)

CPU_PROVIDER = "CPUExecutionProvider"


UNKNOWN_RANK_METADATA = [-1]
"""How an input or output of unknown rank is advertised: the protocol's metadata has no way to
say "any rank", so it shows one dimension of any size; requests may send any shape, and ONNX
Runtime's own check decides."""


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output: -1 stands for any dynamic (named or unknown) dimension;
    `shape` None means the graph does not fix the rank."""

    name: str
    datatype: Datatype
    shape: tuple[int, ...] | None

    def metadata(self) -> dict[str, object]:
        shape = UNKNOWN_RANK_METADATA if self.shape is None else list(self.shape)
        return {"name": self.name, "datatype": self.datatype.name, "shape": shape}


def _spec(arg: ort.NodeArg, unknown_rank: set[str]) -> TensorSpec:
    datatype = BY_ORT_TYPE.get(arg.type)
    if datatype is None:
        raise ValueError(f"tensor '{arg.name}' has type {arg.type}, which this server cannot serve")
    if arg.name in unknown_rank:
        return TensorSpec(arg.name, datatype, None)
    shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in (arg.shape or []))
    return TensorSpec(arg.name, datatype, shape)


def unknown_rank_tensors(path: str, args: Sequence[ort.NodeArg]) -> set[str]:
    """Names among `args` whose graph type has no shape at all (unknown rank).

    ONNX Runtime reports both those and true scalars as `[]`; only the graph tells them apart,
    so it is read (without external weights) only when some tensor reports `[]`."""
    if not any(not a.shape for a in args):
        return set()
    import onnx

    graph = onnx.load(path, load_external_data=False).graph
    return {
        value.name
        for value in (*graph.input, *graph.output)
        if value.type.HasField("tensor_type") and not value.type.tensor_type.HasField("shape")
    }


def choose_providers(requested: Sequence[str]) -> list[str]:
    """Keep the requested providers this onnxruntime build has, warn about the others, and end
    with CPU so that a GPU image scheduled on a node without a GPU still serves."""
    available = set(ort.get_available_providers())
    chosen = [p for p in requested if p in available]
    for missing in (p for p in requested if p not in available):
        log.warning(
            "execution provider %s was requested but is not available in this onnxruntime "
            "build (available: %s); falling back to %s",
            missing,
            ", ".join(sorted(available)),
            CPU_PROVIDER,
        )
    if CPU_PROVIDER not in chosen:
        chosen.append(CPU_PROVIDER)
    return chosen


class InputRejected(ValueError):
    """ONNX Runtime refused the input values (a client error, unlike a failing provider)."""


class OnnxModel:
    """One session per process: sessions are thread-safe for `run`, not fork-safe."""

    def __init__(self, path: str, *, providers: Sequence[str], intra_op_threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        chosen = choose_providers(providers)
        started = time.perf_counter()
        self.session = ort.InferenceSession(path, sess_options=options, providers=chosen)
        self.load_seconds = time.perf_counter() - started
        self.providers: list[str] = list(self.session.get_providers())
        for lost in (p for p in chosen if p not in self.providers):
            log.warning(
                "execution provider %s could not be initialised (no usable device?); "
                "serving with %s",
                lost,
                ", ".join(self.providers),
            )
        args = [*self.session.get_inputs(), *self.session.get_outputs()]
        unknown = unknown_rank_tensors(path, args)
        self.inputs = [_spec(a, unknown) for a in self.session.get_inputs()]
        self.outputs = [_spec(a, unknown) for a in self.session.get_outputs()]
        self.input_by_name = {s.name: s for s in self.inputs}
        self.output_by_name = {s.name: s for s in self.outputs}
        # ONNX Runtime's Python API converts no bfloat16 arrays: such models run on OrtValues.
        self._ort_values = any(s.datatype is BF16 for s in (*self.inputs, *self.outputs))

    def run(self, feeds: Mapping[str, np.ndarray], output_names: Sequence[str]) -> list[np.ndarray]:
        try:
            if self._ort_values:
                return self._run_ort_values(feeds, output_names)
            results = self.session.run(list(output_names), dict(feeds))
        except InvalidArgument as e:
            raise InputRejected(str(e)) from e
        return [np.asarray(r) for r in results]

    def _run_ort_values(
        self, feeds: Mapping[str, np.ndarray], output_names: Sequence[str]
    ) -> list[np.ndarray]:
        values = {}
        for name, feed in feeds.items():
            # Not np.ascontiguousarray: it turns a scalar (0-d) into a 1-d array.
            array = np.require(feed, requirements="C")
            if array.dtype == BF16.dtype:
                values[name] = ort.OrtValue.ortvalue_from_numpy_with_onnx_type(
                    array.view(np.uint16), _ONNX_BFLOAT16
                )
            else:
                values[name] = ort.OrtValue.ortvalue_from_numpy(array)
        results = self.session.run_with_ort_values(list(output_names), values)
        return [_ort_value_array(r) for r in results]


# onnx.TensorProto.BFLOAT16, the element type ONNX Runtime takes with the raw 16-bit values.
_ONNX_BFLOAT16 = 16


def _ort_value_array(value: ort.OrtValue) -> np.ndarray:
    """A CPU OrtValue as a numpy array; bfloat16 ones through their bytes (no numpy type)."""
    if value.data_type() != BF16.ort_type:
        return np.asarray(value.numpy())
    shape = tuple(value.shape())
    count = math.prod(shape)
    raw = (ctypes.c_uint16 * count).from_address(value.data_ptr()) if count else b""
    return np.frombuffer(raw, dtype=np.uint16).copy().view(BF16.dtype).reshape(shape)
