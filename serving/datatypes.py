"""The one table that maps Open Inference Protocol datatypes to numpy and ONNX Runtime types."""

from __future__ import annotations

from dataclasses import dataclass

import ml_dtypes
import numpy as np


@dataclass(frozen=True)
class Datatype:
    """A protocol datatype with its numpy dtype and the ONNX Runtime type string."""

    name: str
    dtype: np.dtype[np.generic]
    ort_type: str


def _dt(name: str, dtype: type[np.generic] | type[object] | str, ort: str) -> Datatype:
    return Datatype(name, np.dtype(dtype), f"tensor({ort})")


DATATYPES: tuple[Datatype, ...] = (
    _dt("BOOL", np.bool_, "bool"),
    _dt("UINT8", np.uint8, "uint8"),
    _dt("UINT16", np.uint16, "uint16"),
    _dt("UINT32", np.uint32, "uint32"),
    _dt("UINT64", np.uint64, "uint64"),
    _dt("INT8", np.int8, "int8"),
    _dt("INT16", np.int16, "int16"),
    _dt("INT32", np.int32, "int32"),
    _dt("INT64", np.int64, "int64"),
    _dt("FP16", np.float16, "float16"),
    # numpy has no bfloat16; ml_dtypes' (the one JAX and ONNX use) holds the same 2 bytes.
    _dt("BF16", ml_dtypes.bfloat16, "bfloat16"),
    _dt("FP32", np.float32, "float"),
    _dt("FP64", np.float64, "double"),
    _dt("BYTES", np.object_, "string"),
)

BY_NAME = {d.name: d for d in DATATYPES}
BY_ORT_TYPE = {d.ort_type: d for d in DATATYPES}
BY_DTYPE_KIND = {d.dtype: d for d in DATATYPES if d.name != "BYTES"}
BF16 = BY_NAME["BF16"]


def datatype_of_array(array: np.ndarray) -> Datatype:
    """The protocol datatype of an output array; strings and objects travel as BYTES."""
    if array.dtype.kind in "OUS":
        return BY_NAME["BYTES"]
    try:
        return BY_DTYPE_KIND[array.dtype]
    except KeyError as e:
        raise TypeError(f"no protocol datatype for numpy dtype {array.dtype}") from e
