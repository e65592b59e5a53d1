"""An ONNX model loaded into one ONNX Runtime session, with its signature in protocol terms."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

from serving.datatypes import BY_ORT_TYPE, Datatype

log = logging.getLogger(__name__)

CPU_PROVIDER = "CPUExecutionProvider"


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output: -1 stands for any dynamic (named or unknown) dimension."""

    name: str
    datatype: Datatype
    shape: tuple[int, ...]

    def metadata(self) -> dict[str, object]:
        return {"name": self.name, "datatype": self.datatype.name, "shape": list(self.shape)}


def _spec(arg: ort.NodeArg) -> TensorSpec:
    datatype = BY_ORT_TYPE.get(arg.type)
    if datatype is None:
        raise ValueError(f"tensor '{arg.name}' has type {arg.type}, which this server cannot serve")
    shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in (arg.shape or []))
    return TensorSpec(arg.name, datatype, shape)


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
        self.inputs = [_spec(a) for a in self.session.get_inputs()]
        self.outputs = [_spec(a) for a in self.session.get_outputs()]
        self.input_by_name = {s.name: s for s in self.inputs}
        self.output_by_name = {s.name: s for s in self.outputs}

    def run(self, feeds: Mapping[str, np.ndarray], output_names: Sequence[str]) -> list[np.ndarray]:
        try:
            results = self.session.run(list(output_names), dict(feeds))
        except InvalidArgument as e:
            raise InputRejected(str(e)) from e
        return [np.asarray(r) for r in results]
