"""Tiny real ONNX models for tests, built in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

# Protocol datatype -> ONNX element type, for every type the identity model echoes.
ELEMENT_TYPES = {
    "BOOL": TensorProto.BOOL,
    "UINT8": TensorProto.UINT8,
    "UINT16": TensorProto.UINT16,
    "UINT32": TensorProto.UINT32,
    "UINT64": TensorProto.UINT64,
    "INT8": TensorProto.INT8,
    "INT16": TensorProto.INT16,
    "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64,
    "FP16": TensorProto.FLOAT16,
    "FP32": TensorProto.FLOAT,
    "FP64": TensorProto.DOUBLE,
    "BYTES": TensorProto.STRING,
}


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def identity_all_types(path: Path) -> Path:
    """One input `in_<TYPE>` [-1, 2] and one output `out_<TYPE>` per datatype, echoed."""
    inputs, outputs, nodes = [], [], []
    for name, element in ELEMENT_TYPES.items():
        inputs.append(helper.make_tensor_value_info(f"in_{name}", element, ["n", 2]))
        outputs.append(helper.make_tensor_value_info(f"out_{name}", element, ["n", 2]))
        nodes.append(helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]))
    graph = helper.make_graph(nodes, "identity_all_types", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    # onnx's checker wants every graph input shaped; ONNX Runtime (and the protocol) do not.
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def slow_matmul(path: Path, *, size: int = 384, repeats: int = 40) -> Path:
    """x [N, 4] -> y [N, 1] through `repeats` MatMuls with a size x size matrix, so that a
    request with many rows stays in flight long enough to be caught by a SIGTERM."""
    rng = np.random.default_rng(0)
    widen = rng.standard_normal((4, size)).astype(np.float32) / 2
    square = (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32)
    narrow = np.ones((size, 1), dtype=np.float32) / size
    initializers = [
        helper.make_tensor("widen", TensorProto.FLOAT, widen.shape, widen.ravel()),
        helper.make_tensor("square", TensorProto.FLOAT, square.shape, square.ravel()),
        helper.make_tensor("narrow", TensorProto.FLOAT, narrow.shape, narrow.ravel()),
    ]
    nodes = [helper.make_node("MatMul", ["x", "widen"], ["h0"])]
    for i in range(repeats):
        nodes.append(helper.make_node("MatMul", [f"h{i}", "square"], [f"m{i}"]))
        nodes.append(helper.make_node("Tanh", [f"m{i}"], [f"h{i + 1}"]))
    nodes.append(helper.make_node("MatMul", [f"h{repeats}", "narrow"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "slow_matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    # onnx's checker wants every graph input shaped; ONNX Runtime (and the protocol) do not.
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def iris_classifier(path: Path) -> Path:
    """The iris example's signature (input [N, 4] -> label, probabilities), trained here."""
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    estimator = LogisticRegression(max_iter=500).fit(x, y)
    model = to_onnx(
        estimator,
        x[:1].astype(np.float32),
        options={id(estimator): {"zipmap": False}},
        initial_types=None,
        target_opset=17,
    )
    model.graph.input[0].name = "input"
    for node in model.graph.node:
        node.input[:] = ["input" if i == "X" else i for i in node.input]
    model.graph.output[0].name = "label"
    for node in model.graph.node:
        node.output[:] = ["label" if o == "output_label" else o for o in node.output]
    model.graph.output[1].name = "probabilities"
    for node in model.graph.node:
        node.output[:] = ["probabilities" if o == "output_probability" else o for o in node.output]
    return _save(model, path)


def broken(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an ONNX model")
    return path


def protocol_edges(path: Path) -> Path:
    """`x` FP32 of unknown rank (no shape in the graph) echoed as `y`, and `b` BF16 [-1]
    echoed as `bo`: the tensors the protocol allows that ONNX models rarely have."""
    nodes = [
        helper.make_node("Identity", ["x"], ["y"]),
        helper.make_node("Identity", ["b"], ["bo"]),
    ]
    graph = helper.make_graph(
        nodes,
        "edges",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("b", TensorProto.BFLOAT16, ["n"]),
        ],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
            helper.make_tensor_value_info("bo", TensorProto.BFLOAT16, ["n"]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    # onnx's checker wants every graph input shaped; ONNX Runtime (and the protocol) do not.
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
