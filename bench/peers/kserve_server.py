"""KServe's Python ModelServer with a custom `Model` calling ONNX Runtime (KServe's documented
way to serve a custom model), speaking the Open Inference Protocol v2.

    python kserve_server.py --model_name iris --http_port P --grpc_port G --workers N

MODEL_PATH names the ONNX file. Runs in `.venv-kserve` (KServe's pins conflict with ours).
"""

from __future__ import annotations

import os
from typing import Any

import kserve
import numpy as np
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer, model_server
from kserve.utils.utils import generate_uuid


class OnnxModel(Model):  # type: ignore[misc]
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.session: Any = None
        self.load()

    # With --workers > 1 KServe pickles the model into each worker process: the session is
    # not picklable, so each worker opens its own.
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "session": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.load()

    def load(self) -> bool:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(os.environ["MODEL_PATH"], options)
        self.ready = True
        return self.ready

    def predict(self, payload: InferRequest, headers: Any = None) -> InferResponse:
        feeds = {i.name: i.as_numpy() for i in payload.inputs}
        names = [o.name for o in self.session.get_outputs()]
        results = self.session.run(names, feeds)
        outputs = []
        for name, array in zip(names, results, strict=True):
            array = np.asarray(array)
            output = InferOutput(name, list(array.shape), _datatype(array))
            output.set_data_from_numpy(array, binary_data=False)
            outputs.append(output)
        response_id = payload.id or generate_uuid()
        return InferResponse(model_name=self.name, infer_outputs=outputs, response_id=response_id)


def _datatype(array: np.ndarray) -> str:
    from kserve.utils.utils import from_np_dtype

    datatype: str = from_np_dtype(array.dtype)
    return datatype


if __name__ == "__main__":
    args, _ = model_server.parser.parse_known_args()
    ModelServer().start([OnnxModel(args.model_name)])
    del kserve
