"""A BentoML service calling ONNX Runtime, answering Open Inference Protocol v2 JSON at
`/v2/models/iris/infer` (BentoML's documented custom-model service, with its route set).

    bentoml serve bentoml_service:Iris --port P      (from this directory; MODEL_PATH, WORKERS)

Runs in `.venv-bentoml` (BentoML's pins conflict with ours).
"""

from __future__ import annotations

import os
from typing import Any

import bentoml
import numpy as np
import onnxruntime as ort

_DTYPES = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32}


# Its best setting: workers from the bench, and no access log line per request (ours writes
# one; the difference is measured as part of each server's own choices).
@bentoml.service(
    workers=int(os.environ.get("WORKERS", "1")), logging={"access": {"enabled": False}}
)
class Iris:
    def __init__(self) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(os.environ["MODEL_PATH"], options)
        self.names = [o.name for o in self.session.get_outputs()]

    @bentoml.api(route="/v2/models/iris/infer")
    def infer(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        feeds = {
            t["name"]: np.asarray(t["data"], dtype=_DTYPES[t["datatype"]]).reshape(t["shape"])
            for t in inputs
        }
        results = self.session.run(self.names, feeds)
        outputs = []
        for name, array in zip(self.names, results, strict=True):
            array = np.asarray(array)
            datatype = "INT64" if array.dtype.kind in "iu" else "FP32"
            outputs.append(
                {
                    "name": name,
                    "datatype": datatype,
                    "shape": list(array.shape),
                    "data": array.ravel().tolist(),
                }
            )
        return {"model_name": "iris", "outputs": outputs}
