"""Translate protocol tensors to numpy arrays and back: the one place for datatypes and shapes.

Both the Open Inference Protocol (JSON, optionally with Triton's binary tensor extension, which
`tritonclient` uses by default) and KServe v1 `instances` meet the model only through here.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from serving.datatypes import BF16, BY_NAME, Datatype, datatype_of_array
from serving.errors import BadRequest
from serving.model import TensorSpec

BINARY_HEADER = "Inference-Header-Content-Length"


@dataclass
class RequestedOutput:
    name: str
    binary: bool = False


@dataclass
class InferenceRequest:
    """A decoded infer request: inputs as arrays, already checked against the model."""

    inputs: dict[str, np.ndarray]
    outputs: list[RequestedOutput]
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    binary_output: bool = False
    """The request's `binary_data_output` parameter: outputs not listed, or listed without
    their own `binary_data`, travel as binary."""

    @property
    def rows(self) -> int:
        first = next(iter(self.inputs.values()), None)
        return int(first.shape[0]) if first is not None and first.ndim else 1


# orjson reads integers beyond 64 bits as floats, where the standard parser keeps them exact
# (and the checks below then reject them): bodies with such long digit runs skip orjson.
_LONG_DIGITS = re.compile(rb"\d{19}")


def parse_json(body: bytes, what: str = "request body") -> Any:
    if _LONG_DIGITS.search(body) is None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            # The standard parser accepts more (NaN, Infinity, UTF-16, a BOM), and its error
            # messages are the ones clients have always seen.
            pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(f"{what} is not valid JSON: {e}") from e


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object")
    return value


def _shape(value: Any, name: str) -> tuple[int, ...]:
    ok = isinstance(value, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value
    )
    if not ok:
        raise BadRequest(f"input '{name}': shape must be a list of non-negative integers")
    return tuple(value)


def check_against_model(name: str, shape: tuple[int, ...], datatype: str, spec: TensorSpec) -> None:
    if datatype != spec.datatype.name:
        raise BadRequest(
            f"input '{name}': wrong datatype {datatype}, the model expects {spec.datatype.name}"
        )
    if spec.shape is None:
        return  # unknown rank: ONNX Runtime's own check decides
    fits = len(shape) == len(spec.shape) and all(
        want in (-1, got) for want, got in zip(spec.shape, shape, strict=True)
    )
    if not fits:
        raise BadRequest(
            f"input '{name}': wrong shape {list(shape)}, the model expects {list(spec.shape)}"
        )


def _array_from_json(name: str, data: Any, shape: tuple[int, ...], dt: Datatype) -> np.ndarray:
    if not isinstance(data, list):
        data = [data]
    try:
        raw = np.array(data, dtype=np.object_ if dt.name == "BYTES" else None)
    except ValueError as e:
        raise BadRequest(f"input '{name}': data is ragged or mixed: {e}") from e
    expected = math.prod(shape)
    if raw.size != expected:
        raise BadRequest(
            f"input '{name}': data has {raw.size} elements but shape {list(shape)} needs {expected}"
        )
    if raw.size and not _kind_fits(raw, dt):
        raise BadRequest(f"input '{name}': data does not hold {dt.name} values")
    try:
        if dt.name == "BYTES":
            return raw.reshape(shape)
        with np.errstate(over="raise", invalid="raise"):
            converted = raw.astype(dt.dtype)
    except (ValueError, OverflowError, FloatingPointError, TypeError) as e:
        raise BadRequest(f"input '{name}': data does not fit {dt.name}: {e}") from e
    if dt.dtype.kind in "iu" and raw.size and not np.array_equal(converted, raw):
        raise BadRequest(f"input '{name}': data does not fit {dt.name}: values out of range")
    return converted.reshape(shape)


def _kind_fits(raw: np.ndarray, dt: Datatype) -> bool:
    kind = raw.dtype.kind
    if dt.name == "BYTES":
        return all(isinstance(v, str) for v in raw.flat)
    if dt.name == "BOOL":
        return kind == "b"
    if dt.dtype.kind in "iu":
        return kind in "iu"
    return kind in "iuf"


def array_from_bytes(name: str, blob: bytes, shape: tuple[int, ...], dt: Datatype) -> np.ndarray:
    count = math.prod(shape)
    if dt.name == "BYTES":
        items: list[bytes] = []
        pos = 0
        while pos < len(blob):
            size = int.from_bytes(blob[pos : pos + 4], "little")
            items.append(blob[pos + 4 : pos + 4 + size])
            pos += 4 + size
        if len(items) != count or pos != len(blob):
            raise BadRequest(f"input '{name}': binary data does not hold {count} strings")
        try:
            # ONNX Runtime's Python API takes text; bytes objects would be fed as their repr.
            texts = [item.decode("utf-8") for item in items]
        except UnicodeDecodeError as e:
            raise BadRequest(f"input '{name}': BYTES must be UTF-8 for ONNX Runtime: {e}") from e
        return np.array(texts, dtype=np.object_).reshape(shape)
    if len(blob) != count * dt.dtype.itemsize:
        raise BadRequest(
            f"input '{name}': binary data has {len(blob)} bytes but shape {list(shape)} "
            f"of {dt.name} needs {count * dt.dtype.itemsize}"
        )
    return np.frombuffer(blob, dtype=dt.dtype).reshape(shape)


def decode_infer_request(
    body: bytes, header_length: str | None, model_inputs: Mapping[str, TensorSpec]
) -> InferenceRequest:
    """Decode a JSON (or JSON + binary tensors) infer request and check it against the model."""
    binary = b""
    if header_length is not None:
        try:
            json_length = int(header_length)
        except ValueError as e:
            raise BadRequest(f"{BINARY_HEADER} must be an integer") from e
        if not 0 <= json_length <= len(body):
            raise BadRequest(f"{BINARY_HEADER} is larger than the body")
        body, binary = body[:json_length], body[json_length:]
    doc = _object(parse_json(body), "request body")
    params = _object(doc.get("parameters", {}), "parameters")
    raw_inputs = doc.get("inputs")
    if not isinstance(raw_inputs, list):
        raise BadRequest("request body: 'inputs' must be a list of input tensors")
    inputs: dict[str, np.ndarray] = {}
    offset = 0
    for index, item in enumerate(raw_inputs):
        tensor = _object(item, f"inputs[{index}]")
        name = tensor.get("name")
        if not isinstance(name, str):
            raise BadRequest(f"inputs[{index}]: 'name' must be a string")
        spec = model_inputs.get(name)
        if spec is None:
            raise BadRequest(
                f"input '{name}' is not an input of this model (inputs: {', '.join(model_inputs)})"
            )
        if name in inputs:
            raise BadRequest(f"input '{name}' is given twice")
        datatype = tensor.get("datatype")
        if datatype not in BY_NAME:
            raise BadRequest(f"input '{name}': unknown datatype {datatype!r}")
        shape = _shape(tensor.get("shape"), name)
        check_against_model(name, shape, datatype, spec)
        tparams = _object(tensor.get("parameters", {}), f"input '{name}': parameters")
        size = tparams.get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(binary):
                raise BadRequest(f"input '{name}': binary_data_size does not fit the body")
            blob = binary[offset : offset + size]
            inputs[name] = array_from_bytes(name, blob, shape, spec.datatype)
            offset += size
        elif "data" in tensor:
            inputs[name] = _array_from_json(name, tensor["data"], shape, spec.datatype)
        else:
            raise BadRequest(f"input '{name}': 'data' is missing")
    if offset != len(binary):
        raise BadRequest(
            f"{len(binary) - offset} bytes follow the last binary input "
            f"(the inputs' binary_data_size add up to {offset})"
        )
    missing = [n for n in model_inputs if n not in inputs]
    if missing:
        raise BadRequest(f"missing input: {', '.join(repr(n) for n in missing)}")
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadRequest("request body: 'id' must be a string")
    default_binary = _flag(params, "binary_data_output", False, "parameters")
    outputs = _requested_outputs(doc.get("outputs"), default_binary)
    return InferenceRequest(inputs, outputs, request_id, params, default_binary)


def _flag(params: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    """A boolean parameter; the protocol's JSON booleans only (a string "false" would be true
    to Python, and to a client that meant false, wrong)."""
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise BadRequest(f"{where}: '{key}' must be true or false, got {json.dumps(value)}")
    return value


def _requested_outputs(value: Any, default_binary: bool) -> list[RequestedOutput]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest("request body: 'outputs' must be a list")
    chosen = []
    for index, item in enumerate(value):
        out = _object(item, f"outputs[{index}]")
        name = out.get("name")
        if not isinstance(name, str):
            raise BadRequest(f"outputs[{index}]: 'name' must be a string")
        where = f"output '{name}': parameters"
        oparams = _object(out.get("parameters", {}), where)
        chosen.append(RequestedOutput(name, _flag(oparams, "binary_data", default_binary, where)))
    return chosen


def _json_data(array: np.ndarray) -> list[Any]:
    flat = array.ravel()
    if flat.dtype.kind in "OSU":
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in flat]
    if flat.dtype == BF16.dtype:
        flat = flat.astype(np.float32)  # exact: every bfloat16 is a float32
    as_list: list[Any] = flat.tolist()
    return as_list


def all_finite(array: np.ndarray) -> bool:
    """Whether a float array holds no NaN or infinity (other kinds hold none)."""
    if array.dtype.kind != "f" and array.dtype != BF16.dtype:
        return True
    return bool(np.isfinite(array).all())


def binary_data(array: np.ndarray, dt: Datatype) -> bytes:
    if dt.name != "BYTES":
        return np.ascontiguousarray(array).tobytes()
    parts = []
    for v in array.ravel():
        raw = v if isinstance(v, bytes) else str(v).encode()
        parts.append(len(raw).to_bytes(4, "little") + raw)
    return b"".join(parts)


def encode_infer_response(
    *,
    model_name: str,
    model_version: str,
    request: InferenceRequest,
    names: Sequence[str],
    arrays: Sequence[np.ndarray],
    binary_names: set[str],
) -> tuple[bytes, int | None]:
    """JSON response body and, when any output travels as binary, the JSON part's length."""
    outputs = []
    blobs = []
    finite = True
    for name, array in zip(names, arrays, strict=True):
        dt = datatype_of_array(array)
        out: dict[str, Any] = {"name": name, "datatype": dt.name, "shape": list(array.shape)}
        if name in binary_names:
            blob = binary_data(array, dt)
            out["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            out["data"] = _json_data(array)
            finite = finite and all_finite(array)
        outputs.append(out)
    doc: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request.id is not None:
        doc["id"] = request.id
    doc["outputs"] = outputs
    head = dumps(doc, finite=finite)
    if not blobs:
        return head, None
    return head + b"".join(blobs), len(head)


def decode_instances(body: bytes, model_inputs: Sequence[TensorSpec]) -> dict[str, np.ndarray]:
    """KServe v1: `instances` are rows of the first input, or objects keyed by input name."""
    doc = _object(parse_json(body), "request body")
    instances = doc.get("instances")
    if not isinstance(instances, list) or not instances:
        raise BadRequest("request body: 'instances' must be a non-empty list")
    if all(isinstance(i, dict) for i in instances):
        columns = {spec.name: [i.get(spec.name) for i in instances] for spec in model_inputs}
    elif len(model_inputs) == 1:
        columns = {model_inputs[0].name: instances}
    else:
        raise BadRequest("this model has several inputs: each instance must be an object")
    feeds = {}
    for spec in model_inputs:
        rows = columns[spec.name]
        if any(r is None for r in rows):
            raise BadRequest(f"missing input: '{spec.name}' in some instances")
        try:
            shape = np.shape(np.array(rows, dtype=np.object_))
        except ValueError as e:
            raise BadRequest(f"input '{spec.name}': instances are ragged: {e}") from e
        check_against_model(spec.name, tuple(shape), spec.datatype.name, spec)
        feeds[spec.name] = _array_from_json(spec.name, rows, tuple(shape), spec.datatype)
    return feeds


def encode_predictions(array: np.ndarray) -> bytes:
    """One prediction per instance, keeping the output's nesting below the batch axis."""
    finite = all_finite(array)
    if array.dtype.kind in "OSU" or array.dtype == BF16.dtype:
        array = np.array(_json_data(array), dtype=np.object_).reshape(array.shape)
    return dumps({"predictions": array.tolist()}, finite=finite)


def dumps(doc: Any, *, finite: bool = True) -> bytes:
    """Compact UTF-8 JSON.

    NaN and infinities a model outputs (`finite=False`) are written as the bare tokens `NaN`,
    `Infinity` and `-Infinity`: not strict JSON, but lossless, what this server accepts in
    requests, and what Python's json and python-rapidjson (tritonclient) read, as binary
    outputs would carry them (docs/serving.md). orjson would write null."""
    if finite:
        try:
            return orjson.dumps(doc)
        except orjson.JSONEncodeError:
            pass  # integers beyond 64 bits, lone surrogates: the standard encoder takes them
    return json.dumps(doc, separators=(",", ":")).encode()
