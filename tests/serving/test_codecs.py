"""Protocol tensors <-> numpy, checked without a server."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from serving import codecs
from serving.datatypes import BY_NAME
from serving.errors import BadRequest
from serving.model import TensorSpec

SPEC = {"x": TensorSpec("x", BY_NAME["FP32"], (-1, 3))}


def _body(data: object, shape: list[int], datatype: str = "FP32") -> bytes:
    tensor = {"name": "x", "shape": shape, "datatype": datatype, "data": data}
    return json.dumps({"inputs": [tensor]}).encode()


@given(st.lists(st.lists(st.floats(-1e6, 1e6, width=32), min_size=3, max_size=3), min_size=1))
def test_nested_and_flat_data_decode_alike(rows: list[list[float]]) -> None:
    shape = [len(rows), 3]
    flat = [v for row in rows for v in row]
    nested = codecs.decode_infer_request(_body(rows, shape), None, SPEC).inputs["x"]
    plain = codecs.decode_infer_request(_body(flat, shape), None, SPEC).inputs["x"]
    np.testing.assert_array_equal(nested, plain)
    np.testing.assert_array_equal(plain, np.array(rows, dtype=np.float32))


def test_binary_tensor_data_round_trips() -> None:
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": "x",
                    "shape": [2, 3],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": values.nbytes},
                }
            ]
        }
    ).encode()
    request = codecs.decode_infer_request(head + values.tobytes(), str(len(head)), SPEC)
    np.testing.assert_array_equal(request.inputs["x"], values)


@pytest.mark.parametrize(
    ("data", "datatype", "message"),
    [
        pytest.param([1.5, 2, 3], "INT64", "wrong datatype", id="datatype"),
        pytest.param(["a", "b", "c"], "FP32", "does not hold FP32", id="strings-as-floats"),
        pytest.param([[1, 2], [3]], "FP32", "ragged", id="ragged"),
        pytest.param([1, 2], "FP32", "data has 2 elements but shape", id="length"),
    ],
)
def test_bad_tensors_name_the_input(data: object, datatype: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message) as caught:
        codecs.decode_infer_request(_body(data, [1, 3], datatype), None, SPEC)
    assert "'x'" in caught.value.message


def test_integers_out_of_range_are_refused() -> None:
    spec = {"x": TensorSpec("x", BY_NAME["UINT8"], (-1,))}
    with pytest.raises(BadRequest, match="does not fit UINT8"):
        codecs.decode_infer_request(_body([1, 300], [2], "UINT8"), None, spec)


def test_non_finite_outputs_become_null() -> None:
    assert codecs.dumps({"v": [1.0, float("nan"), float("inf")]}) == b'{"v":[1.0,null,null]}'
