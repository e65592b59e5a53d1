"""Open Inference Protocol gRPC messages to numpy arrays and back, with the same checks as
the JSON codec (`serving.codecs`): datatypes, shapes, sizes, named inputs and outputs.

Inputs may come as `raw_input_contents` (what tritonclient sends: little-endian bytes, BYTES
as 4-byte length prefixes, the same layout as the binary tensor extension) or as typed
`contents`; outputs always go back as `raw_output_contents`, as Triton answers (every
datatype, FP16 and BF16 included, has a raw form, not every one has a typed field).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from serving import codecs
from serving.codecs import InferenceRequest, RequestedOutput
from serving.datatypes import BY_NAME, Datatype, datatype_of_array
from serving.errors import BadRequest
from serving.model import TensorSpec
from serving.oip_grpc import open_inference_grpc_pb2 as pb

# The typed contents field each datatype may use (the proto's comments name them).
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def parameter_value(param: pb.InferParameter) -> Any:
    choice = param.WhichOneof("parameter_choice")
    return None if choice is None else getattr(param, choice)


def _parameters(params: Mapping[str, pb.InferParameter]) -> dict[str, Any]:
    return {key: parameter_value(value) for key, value in params.items()}


def decode_request(
    message: pb.ModelInferRequest, model_inputs: Mapping[str, TensorSpec]
) -> InferenceRequest:
    """A ModelInferRequest as arrays, checked against the model; BadRequest names the
    problem."""
    raw = list(message.raw_input_contents)
    if raw and len(raw) != len(message.inputs):
        raise BadRequest(
            f"raw_input_contents has {len(raw)} entries for {len(message.inputs)} inputs"
        )
    inputs: dict[str, np.ndarray] = {}
    for index, tensor in enumerate(message.inputs):
        spec = model_inputs.get(tensor.name)
        if spec is None:
            raise BadRequest(
                f"input '{tensor.name}' is not an input of this model "
                f"(inputs: {', '.join(model_inputs)})"
            )
        if tensor.name in inputs:
            raise BadRequest(f"input '{tensor.name}' is given twice")
        if tensor.datatype not in BY_NAME:
            raise BadRequest(f"input '{tensor.name}': unknown datatype {tensor.datatype!r}")
        shape = tuple(int(d) for d in tensor.shape)
        if any(d < 0 for d in shape):
            raise BadRequest(f"input '{tensor.name}': shape must be non-negative integers")
        codecs.check_against_model(tensor.name, shape, tensor.datatype, spec)
        if raw:
            inputs[tensor.name] = codecs.array_from_bytes(
                tensor.name, raw[index], shape, spec.datatype
            )
        else:
            inputs[tensor.name] = _array_from_contents(tensor, shape, spec.datatype)
    missing = [n for n in model_inputs if n not in inputs]
    if missing:
        raise BadRequest(f"missing input: {', '.join(repr(n) for n in missing)}")
    outputs = [RequestedOutput(o.name) for o in message.outputs]
    return InferenceRequest(
        inputs, outputs, message.id or None, _parameters(message.parameters), False
    )


def _array_from_contents(
    tensor: pb.ModelInferRequest.InferInputTensor, shape: tuple[int, ...], dt: Datatype
) -> np.ndarray:
    field = CONTENTS_FIELD.get(dt.name)
    if field is None:
        raise BadRequest(f"input '{tensor.name}': {dt.name} travels only in raw_input_contents")
    values = list(getattr(tensor.contents, field))
    count = math.prod(shape)
    if len(values) != count:
        raise BadRequest(
            f"input '{tensor.name}': contents has {len(values)} elements "
            f"but shape {list(shape)} needs {count}"
        )
    if dt.name == "BYTES":
        try:
            texts = [v.decode("utf-8") for v in values]
        except UnicodeDecodeError as e:
            raise BadRequest(
                f"input '{tensor.name}': BYTES must be UTF-8 for ONNX Runtime: {e}"
            ) from e
        return np.array(texts, dtype=np.object_).reshape(shape)
    try:
        array = np.array(values, dtype=dt.dtype)
    except (OverflowError, ValueError) as e:
        raise BadRequest(f"input '{tensor.name}': data does not fit {dt.name}: {e}") from e
    return array.reshape(shape)


def encode_response(
    *,
    model_name: str,
    model_version: str,
    request: InferenceRequest,
    outputs: Sequence[RequestedOutput],
    arrays: Sequence[np.ndarray],
) -> pb.ModelInferResponse:
    response = pb.ModelInferResponse(model_name=model_name, model_version=model_version)
    if request.id is not None:
        response.id = request.id
    for output, array in zip(outputs, arrays, strict=True):
        dt = datatype_of_array(array)
        response.outputs.add(name=output.name, datatype=dt.name, shape=list(array.shape))
        response.raw_output_contents.append(codecs.binary_data(array, dt))
    return response


def metadata_response(doc: Mapping[str, Any]) -> pb.ModelMetadataResponse:
    def tensors(items: Sequence[Mapping[str, Any]]) -> list[Any]:
        return [
            pb.ModelMetadataResponse.TensorMetadata(
                name=t["name"], datatype=t["datatype"], shape=t["shape"]
            )
            for t in items
        ]

    return pb.ModelMetadataResponse(
        name=doc["name"],
        versions=doc["versions"],
        platform=doc["platform"],
        inputs=tensors(doc["inputs"]),
        outputs=tensors(doc["outputs"]),
    )
