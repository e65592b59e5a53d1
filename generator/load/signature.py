"""The interface of an ONNX model (its input and output tensors) in Open Inference Protocol
terms, and the comparison that makes an interface change visible in review.

A retrained model with the same interface is a routine change; one whose inputs changed
breaks every client. Recording the signature in model.yaml turns the second kind into a
reviewed diff instead of a production incident.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import MlgitopsError
from generator.yamlout import Plain, inline

if TYPE_CHECKING:
    import onnx

# onnx (and numpy behind it) is imported only when an artifact is read: every CLI start
# would pay for it otherwise, and most commands never open an artifact.

_DATATYPE_NAMES = {
    "BOOL": "BOOL",
    "UINT8": "UINT8",
    "UINT16": "UINT16",
    "UINT32": "UINT32",
    "UINT64": "UINT64",
    "INT8": "INT8",
    "INT16": "INT16",
    "INT32": "INT32",
    "INT64": "INT64",
    "FLOAT16": "FP16",
    "FLOAT": "FP32",
    "DOUBLE": "FP64",
    "BFLOAT16": "BF16",
    "STRING": "BYTES",
}
"""ONNX TensorProto element types -> Open Inference Protocol (KServe v2) datatypes."""


@cache
def _datatypes() -> dict[int, str]:
    import onnx

    return {onnx.TensorProto.DataType.Value(name): oip for name, oip in _DATATYPE_NAMES.items()}


class SignatureError(MlgitopsError):
    """The file is not an ONNX model we can describe (with the reason as its message)."""


@dataclass(frozen=True)
class Tensor:
    name: str
    datatype: str
    shape: tuple[int, ...]

    def as_data(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}

    def flow_data(self) -> dict[str, Any]:
        """As written in model.yaml: the datatype token unquoted (``datatype: FP32``)."""
        return {"name": self.name, "datatype": Plain(self.datatype), "shape": list(self.shape)}

    def flow(self) -> str:
        return inline(self.flow_data())


@dataclass(frozen=True)
class Signature:
    inputs: tuple[Tensor, ...]
    outputs: tuple[Tensor, ...]

    def as_data(self) -> dict[str, Any]:
        return {
            "inputs": [t.as_data() for t in self.inputs],
            "outputs": [t.as_data() for t in self.outputs],
        }

    def flow(self) -> str:
        """One-line YAML, short enough for a hint that says what to paste."""
        return inline(
            {
                "inputs": [t.flow_data() for t in self.inputs],
                "outputs": [t.flow_data() for t in self.outputs],
            }
        )


def from_data(data: Mapping[str, Any]) -> Signature:
    """Typed view of a schema-valid spec.signature."""

    def tensors(items: Sequence[Mapping[str, Any]]) -> tuple[Tensor, ...]:
        return tuple(Tensor(t["name"], t["datatype"], tuple(t["shape"])) for t in items)

    return Signature(tensors(data["inputs"]), tensors(data["outputs"]))


def _tensor(value: onnx.ValueInfoProto, role: str) -> Tensor:
    kind = value.type.WhichOneof("value")
    if kind != "tensor_type":
        raise SignatureError(
            f"{role} {value.name!r} is a {kind or 'value of unknown type'}, not a tensor; "
            "the Open Inference Protocol serves tensors only (for scikit-learn classifiers, "
            "convert with options={'zipmap': False})"
        )
    tensor = value.type.tensor_type
    datatype = _datatypes().get(tensor.elem_type)
    if datatype is None:
        import onnx

        name = onnx.TensorProto.DataType.Name(tensor.elem_type)
        raise SignatureError(
            f"{role} {value.name!r} has element type {name}, "
            "which the Open Inference Protocol cannot carry"
        )
    if not tensor.HasField("shape"):
        raise SignatureError(f"{role} {value.name!r} has no shape information")
    shape = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim)
    return Tensor(value.name, datatype, shape)


def read_signature(path: Path) -> Signature:
    """The graph's inputs (minus initializers, which older exporters list too) and outputs."""
    from generator.artifacts.external import NotOnnxError, load_graph

    try:
        model = load_graph(path)
    except NotOnnxError as error:
        raise SignatureError(str(error)) from error
    if not model.HasField("graph") or not model.graph.output:
        raise SignatureError("not an ONNX model (no graph with outputs)")
    initializers = {init.name for init in model.graph.initializer}
    return Signature(
        inputs=tuple(_tensor(v, "input") for v in model.graph.input if v.name not in initializers),
        outputs=tuple(_tensor(v, "output") for v in model.graph.output),
    )


def differences(recorded: Signature, actual: Signature) -> Iterator[str]:
    """Each way the artifact differs from what model.yaml records, named by tensor."""
    for role, old, new in (
        ("input", recorded.inputs, actual.inputs),
        ("output", recorded.outputs, actual.outputs),
    ):
        before = {t.name: t for t in old}
        after = {t.name: t for t in new}
        for name in before.keys() - after.keys():
            yield f"{role} {name!r} is recorded in model.yaml but the artifact has no such {role}"
        for name in after.keys() - before.keys():
            added = after[name]
            yield f"the artifact has a new {role} {name!r} ({added.datatype} {list(added.shape)})"
        for name in sorted(before.keys() & after.keys()):
            was, now = before[name], after[name]
            if was.datatype != now.datatype:
                yield f"{role} {name!r} datatype changed: {was.datatype} -> {now.datatype}"
            if was.shape != now.shape:
                yield f"{role} {name!r} shape changed: {list(was.shape)} -> {list(now.shape)}"
        if before.keys() == after.keys() and [t.name for t in old] != [t.name for t in new]:
            yield f"{role}s changed order: {[t.name for t in old]} -> {[t.name for t in new]}"
