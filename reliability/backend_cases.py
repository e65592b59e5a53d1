"""The ONNX backend node test cases (a peer's test suite), sent through the real server.

The `onnx` wheel ships the case generators, not the data files: `collect_testcases` builds
each case's one-node model and its input and expected output arrays. A case counts when ONNX
Runtime runs it in-process and matches its expected outputs (the backend tests' own rtol and
atol; exact for integers, booleans and strings); each such case must then come back equal
through the server, by tritonclient (binary and JSON) and by a plain JSON client.

Starting a server per case would cost seconds each, so cases sharing their opset imports and
IR version are merged into one model (every name prefixed by the case's index), served once,
and all its cases are sent in one request per client. A group whose merged model or request
fails is split, down to single cases, so every failure is one case's.

Cases with sequence, map or optional tensors are outside the protocol: the server must keep
refusing such a model with its clear "cannot serve" message.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import urllib.request
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

# Protocol datatype of each ONNX element type the protocol has.
DATATYPES = {
    TensorProto.BOOL: "BOOL",
    TensorProto.UINT8: "UINT8",
    TensorProto.UINT16: "UINT16",
    TensorProto.UINT32: "UINT32",
    TensorProto.UINT64: "UINT64",
    TensorProto.INT8: "INT8",
    TensorProto.INT16: "INT16",
    TensorProto.INT32: "INT32",
    TensorProto.INT64: "INT64",
    TensorProto.FLOAT16: "FP16",
    TensorProto.BFLOAT16: "BF16",
    TensorProto.FLOAT: "FP32",
    TensorProto.DOUBLE: "FP64",
    TensorProto.STRING: "BYTES",
}
CLIENTS = ("tritonclient-binary", "tritonclient-json", "plain-json")


@dataclass
class Case:
    """One backend test case, with its model and its first data set."""

    name: str
    model: onnx.ModelProto
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    rtol: float
    atol: float

    @property
    def datatypes(self) -> set[str]:
        graph = self.model.graph
        return {
            DATATYPES.get(v.type.tensor_type.elem_type, "?") for v in (*graph.input, *graph.output)
        }


def collect() -> list[Case]:
    """Every node case the installed onnx package generates, sorted by name."""
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        generated = collect_testcases(None)
    found = []
    for test in generated:
        if test.model is None or not test.data_sets:
            continue
        inputs, outputs = test.data_sets[0]
        found.append(
            Case(test.name, test.model, _arrays(inputs), _arrays(outputs), test.rtol, test.atol)
        )
    return sorted(found, key=lambda c: c.name)


def _arrays(values: Sequence[Any]) -> list[Any]:
    """Numpy scalars as 0-d arrays; sequences and maps stay as they are."""
    return [np.asarray(v) if isinstance(v, np.generic) else v for v in values]


def outside_protocol(case: Case) -> str | None:
    """Why the protocol cannot carry this case's tensors (sequence, map, optional, a type the
    protocol lacks), or None."""
    for value in (*case.model.graph.input, *case.model.graph.output):
        kind = value.type.WhichOneof("value")
        if kind != "tensor_type":
            return kind or "no type"
        if value.type.tensor_type.elem_type not in DATATYPES:
            name: str = TensorProto.DataType.Name(value.type.tensor_type.elem_type)
            return name.lower()
    if any(not isinstance(a, np.ndarray) for a in (*case.inputs, *case.outputs)):
        return "non-array data"
    return None


def equal(expected: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> str | None:
    """None when `got` matches as the backend tests require, else what differs."""
    got = np.asarray(got)
    if got.shape != expected.shape:
        return f"shape {list(got.shape)} != {list(expected.shape)}"
    if expected.dtype.kind in "OSU":
        want = [v.decode() if isinstance(v, bytes) else str(v) for v in expected.ravel()]
        have = [v.decode() if isinstance(v, bytes) else str(v) for v in got.ravel()]
        return None if want == have else "strings differ"
    if expected.dtype.kind in "fc" or expected.dtype.name == "bfloat16":
        want_f, have_f = expected.astype(np.float64), got.astype(np.float64)
        try:
            np.testing.assert_allclose(have_f, want_f, rtol=rtol, atol=atol)
        except AssertionError:
            return "values differ beyond rtol/atol"
        return None
    return None if np.array_equal(expected, got.astype(expected.dtype)) else "values differ"


def runs_in_process(case: Case, work: Path) -> str | None:
    """None when ONNX Runtime runs the case in-process and matches its expected outputs.

    Run through the server's own session wrapper (`serving.model.OnnxModel`), which is how
    ONNX Runtime's Python API takes bfloat16 (as OrtValues); everything else is a plain
    `InferenceSession.run`."""
    import onnxruntime as ort

    from serving.model import OnnxModel

    ort.set_default_logger_severity(4)
    try:
        model = OnnxModel(
            str(save(case.model, work / "model.onnx")),
            providers=["CPUExecutionProvider"],
            intra_op_threads=1,
        )
        feeds = {s.name: a for s, a in zip(model.inputs, case.inputs, strict=True)}
        got = model.run(feeds, [s.name for s in model.outputs])
    except Exception as e:  # any refusal: the case is not ONNX Runtime's to serve
        return f"{type(e).__name__}"
    for want, have in zip(case.outputs, got, strict=True):
        if equal(want, np.asarray(have), case.rtol, case.atol) is not None:
            return "ONNX Runtime differs from the expected outputs"
    return None


def sample(cases: Sequence[Case], size: int) -> list[Case]:
    """A fixed sample: every k-th case by name, plus the first case of any datatype the
    stride missed, so that every datatype is covered."""
    stride = max(1, len(cases) // size)
    chosen = list(cases[::stride])[:size]
    covered = set().union(*(c.datatypes for c in chosen)) if chosen else set()
    for case in cases:
        missing = case.datatypes - covered
        if missing:
            chosen.append(case)
            covered |= missing
    return sorted(chosen, key=lambda c: c.name)


def group_key(model: onnx.ModelProto) -> tuple[Any, ...]:
    opsets = tuple(sorted((o.domain, o.version) for o in model.opset_import))
    return (model.ir_version, opsets)


def merged(cases: Sequence[tuple[int, Case]]) -> onnx.ModelProto:
    """One model holding every case's graph, names prefixed `c<index>_`."""
    first = cases[0][1].model
    graph = helper.make_graph([], "backend_cases", [], [])
    for index, case in cases:
        part = onnx.compose.add_prefix(case.model, f"c{index}_").graph
        graph.node.extend(part.node)
        graph.input.extend(part.input)
        graph.output.extend(part.output)
        graph.initializer.extend(part.initializer)
        graph.value_info.extend(part.value_info)
    model = helper.make_model(graph, opset_imports=list(first.opset_import))
    model.ir_version = first.ir_version
    for _, case in cases:
        known = {f.name for f in model.functions}
        model.functions.extend(f for f in case.model.functions if f.name not in known)
    return model


@dataclass
class Outcome:
    """What happened to each servable case, per client."""

    passed: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    by_datatype: Counter[str] = field(default_factory=Counter)


def _feeds(index: int, case: Case) -> Iterator[tuple[str, str, np.ndarray]]:
    for value, array in zip(case.model.graph.input, case.inputs, strict=True):
        yield f"c{index}_{value.name}", DATATYPES[value.type.tensor_type.elem_type], array


def _expected(index: int, case: Case) -> Iterator[tuple[str, np.ndarray]]:
    for value, array in zip(case.model.graph.output, case.outputs, strict=True):
        yield f"c{index}_{value.name}", array


def _json_value(array: np.ndarray) -> list[Any]:
    flat = array.ravel()
    if flat.dtype.kind in "OSU":
        return [v.decode() if isinstance(v, bytes) else str(v) for v in flat]
    if flat.dtype.name == "bfloat16":
        flat = flat.astype(np.float32)
    values: list[Any] = flat.tolist()
    return values


def _plain_json(url: str, cases: Sequence[tuple[int, Case]]) -> dict[str, np.ndarray]:
    inputs = [
        {"name": n, "datatype": dt, "shape": list(a.shape), "data": _json_value(a)}
        for index, case in cases
        for n, dt, a in _feeds(index, case)
    ]
    body = json.dumps({"inputs": inputs}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        doc = json.loads(response.read())
    out = {}
    for tensor in doc["outputs"]:
        data = tensor["data"]
        kind = np.object_ if tensor["datatype"] == "BYTES" else None
        out[tensor["name"]] = np.array(data, dtype=kind).reshape(tensor["shape"])
    return out


def _triton(host: str, cases: Sequence[tuple[int, Case]], binary: bool) -> dict[str, np.ndarray]:
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(host, network_timeout=120, connection_timeout=120)
    inputs = []
    for index, case in cases:
        for name, datatype, array in _feeds(index, case):
            tensor = httpclient.InferInput(name, list(array.shape), datatype)
            data = array
            if datatype == "BYTES":
                data = np.array(
                    [v.encode() if isinstance(v, str) else v for v in array.ravel()],
                    dtype=np.object_,
                ).reshape(array.shape)
            tensor.set_data_from_numpy(data, binary_data=binary or datatype == "BF16")
            inputs.append(tensor)
    outputs = [
        httpclient.InferRequestedOutput(n, binary_data=binary)
        for index, case in cases
        for n, _ in _expected(index, case)
    ]
    result = client.infer("cases", inputs, outputs=outputs)
    client.close()
    got = {}
    for name, _ in (p for index, case in cases for p in _expected(index, case)):
        array = result.as_numpy(name)
        got[name] = np.asarray(array) if array is not None else np.array([])
    return got


def check_group(
    host: str, cases: Sequence[tuple[int, Case]], outcome: Outcome
) -> list[tuple[int, Case]]:
    """Send the group's cases by every client; record passes and per-case differences.

    Returns the cases to retry on their own: all of them when a request failed as a whole."""
    url = f"http://{host}/v2/models/cases/infer"
    for client in CLIENTS:
        try:
            if client == "plain-json":
                got = _plain_json(url, cases)
            else:
                got = _triton(host, cases, binary=client == "tritonclient-binary")
        except Exception as e:
            if len(cases) > 1:
                return list(cases)
            outcome.failures.append(f"{cases[0][1].name} [{client}]: {type(e).__name__}: {e}")
            continue
        for index, case in cases:
            wrong = [
                f"{name[len(f'c{index}_') :]}: {problem}"
                for name, want in _expected(index, case)
                if (problem := equal(want, got[name], case.rtol, case.atol)) is not None
            ]
            if wrong:
                outcome.failures.append(f"{case.name} [{client}]: {'; '.join(wrong)}")
            else:
                outcome.passed[client] += 1
    for _, case in cases:
        for datatype in case.datatypes:
            outcome.by_datatype[datatype] += 1
    return []


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def table(outcome: Outcome, total: int, skipped: Counter[str]) -> str:
    """Counts by datatype and client, as `make test` and `make reliability` print them."""
    lines = [f"ONNX backend node cases: {total} generated"]
    lines += [f"  not counted: {n} {why}" for why, n in sorted(skipped.items())]
    lines.append("  served, by datatype (a case counts once per datatype it uses):")
    lines += [f"    {dt:<6} {n}" for dt, n in sorted(outcome.by_datatype.items())]
    lines += [f"  passed via {client}: {outcome.passed[client]}" for client in CLIENTS]
    lines.append(f"  failures: {len(outcome.failures)}")
    return "\n".join(lines)


def element_count(case: Case) -> int:
    return sum(math.prod(a.shape) for a in case.inputs)


# Cases per merged model: large enough to need few servers, small enough that a failure
# bisects quickly.
CHUNK = 80


def run(cases: Sequence[Case], work: Path, start: Any) -> tuple[Outcome, Counter[str]]:
    """Serve every countable case through `start(tmp, model_path, **env)` (a function that
    starts the real server and returns it with `.host` and `.stop()`)."""
    skipped: Counter[str] = Counter()
    countable: list[tuple[int, Case]] = []
    for index, case in enumerate(cases):
        reason = outside_protocol(case)
        if reason is not None:
            skipped[f"outside the protocol ({reason})"] += 1
            continue
        reason = runs_in_process(case, work / "in-process")
        if reason is not None:
            skipped[f"not run as expected by ONNX Runtime in-process ({reason})"] += 1
            continue
        countable.append((index, case))
    groups: dict[tuple[Any, ...], list[tuple[int, Case]]] = {}
    for item in countable:
        groups.setdefault(group_key(item[1].model), []).append(item)
    pending = [g[i : i + CHUNK] for g in groups.values() for i in range(0, len(g), CHUNK)]
    outcome = Outcome()
    serial = 0
    while pending:
        chunk = pending.pop()
        serial += 1
        path = save(merged(chunk), work / f"group-{serial}" / "model.onnx")
        retry = _serve_chunk(path, chunk, outcome, start)
        if retry:
            half = len(retry) // 2
            pending += [retry[:half], retry[half:]]
    return outcome, skipped


def _serve_chunk(
    path: Path, chunk: list[tuple[int, Case]], outcome: Outcome, start: Any
) -> list[tuple[int, Case]]:
    try:
        server = start(
            path.parent,
            path,
            MODEL_NAME="cases",
            WORKERS="1",
            THREADS="1",
            MAX_REQUEST_BYTES=str(256 << 20),
        )
    except RuntimeError as e:
        if len(chunk) > 1:
            return chunk
        outcome.failures.append(f"{chunk[0][1].name}: server not ready: {str(e)[-300:]}")
        return []
    try:
        return check_group(server.host, chunk, outcome)
    finally:
        server.stop()
