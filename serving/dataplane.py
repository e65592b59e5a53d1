"""The protocol-independent core: model state, readiness, metadata and inference.

REST handlers only translate HTTP into calls here; every rule about which model, which
version, and when the server may answer lives in this module.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from prometheus_client import Gauge, Histogram

from serving import codecs, drift, metrics
from serving.errors import BadRequest, ModelNotFound, ModelNotReady
from serving.lifecycle import provider_problem
from serving.model import InputRejected, OnnxModel
from serving.settings import Settings

log = logging.getLogger(__name__)

SERVER_NAME = "mlgitops-serve"
EXTENSIONS = ["binary_tensor_data"]


def _server_version() -> str:
    try:
        return version("mlgitops")
    except PackageNotFoundError:
        return "0+unknown"


def _feedback_output(body: bytes, header_length: str | None, default: str) -> str:
    """``parameters.output`` of a feedback request (which output the ground truth is for)."""
    head = body
    if header_length is not None and header_length.isdigit():
        head = body[: int(header_length)]
    doc = codecs.parse_json(head)
    params = doc.get("parameters") if isinstance(doc, dict) else None
    output = params.get("output", default) if isinstance(params, dict) else default
    if not isinstance(output, str):
        raise BadRequest("parameters.output must be the name of a model output")
    return output


class DataPlane:
    """Holds the one model of this process; a load failure is kept, reported, never raised."""

    def __init__(self, settings: Settings, *, serving: Callable[[], bool] = lambda: True) -> None:
        """`serving` says whether the server as a whole may take traffic (every worker loaded,
        not draining); this process adds whether its own model is loaded."""
        self.settings = settings
        self.name = settings.model_name
        self.version = settings.model_version
        self._serving = serving
        self.model: OnnxModel | None = None
        self.load_error: str | None = None
        self.provider_problem = ""
        self.monitor: drift.DriftMonitor | None = None
        self.server_metadata_doc: dict[str, Any] = {
            "name": SERVER_NAME,
            "version": _server_version(),
            "extensions": EXTENSIONS,
        }
        self._server_metadata = codecs.dumps(self.server_metadata_doc)

    # This process serves one model: its labelled metric children are looked up once, when first
    # used (so a series appears in /metrics exactly when it did with a lookup per call).
    @cached_property
    def _batch_rows(self) -> Histogram:
        return metrics.BATCH_ROWS.labels(self.name)

    @cached_property
    def _inference_latency(self) -> Histogram:
        return metrics.INFERENCE_LATENCY.labels(self.name)

    @cached_property
    def _ready_gauge(self) -> Gauge:
        return metrics.MODEL_READY.labels(self.name)

    def load(self) -> None:
        try:
            self.model = OnnxModel(
                self.settings.model_path,
                providers=self.settings.ort_providers,
                intra_op_threads=self.settings.ort_threads,
            )
        # Any load failure must leave a live, not-ready server that says why, not a crash loop.
        except Exception as e:
            self.load_error = f"{type(e).__name__}: {e}"
            log.error(
                "model %s could not be loaded from %s: %s; the server stays not ready",
                self.name,
                self.settings.model_path,
                self.load_error,
            )
        else:
            metrics.MODEL_LOAD_SECONDS.labels(self.name).set(self.model.load_seconds)
            requested, active = self.settings.ort_providers, self.model.providers
            metrics.observe_providers(self.name, requested, active)
            self.provider_problem = provider_problem(
                requested, active, self.settings.allow_fallback
            )
            if self.provider_problem:
                log.error("model %s: %s", self.name, self.provider_problem)
            drift.prepare_feedback(
                self.name, [(s.name, s.datatype.dtype) for s in self.model.outputs]
            )
            self.monitor = drift.load_monitor(
                self.settings.model_profile, self.name, self.settings.model_path
            )
            log.info(
                "model %s version %s loaded from %s in %.3f s with providers %s",
                self.name,
                self.version,
                self.settings.model_path,
                self.model.load_seconds,
                ",".join(self.model.providers),
            )
        self.ready()

    def ready(self) -> bool:
        ready = self.model is not None and not self.provider_problem and self._serving()
        self._ready_gauge.set(1 if ready else 0)
        return ready

    def server_metadata(self) -> bytes:
        return self._server_metadata

    def _resolve(self, name: str, version: str | None) -> None:
        if name != self.name:
            raise ModelNotFound(name)
        if version is not None and version != self.version:
            raise ModelNotFound(name, version)

    def _loaded(self) -> OnnxModel:
        if self.model is None:
            reason = self.load_error or "still loading"
            raise ModelNotReady(f"model '{self.name}' is not ready: {reason}")
        return self.model

    def model_ready(self, name: str, version: str | None) -> bool:
        self._resolve(name, version)
        return self.ready()

    def model_metadata_doc(self, name: str, version: str | None) -> dict[str, Any]:
        model = self.model_for(name, version)
        return {
            "name": self.name,
            "versions": [self.version],
            "platform": "onnxruntime_onnx",
            "inputs": [s.metadata() for s in model.inputs],
            "outputs": [s.metadata() for s in model.outputs],
        }

    def model_metadata(self, name: str, version: str | None) -> bytes:
        return codecs.dumps(self.model_metadata_doc(name, version))

    def model_for(self, name: str, version: str | None) -> OnnxModel:
        """The loaded model a request names; ModelNotFound (404) or ModelNotReady (503)."""
        self._resolve(name, version)
        return self._loaded()

    def _run(self, model: OnnxModel, feeds: dict[str, np.ndarray], names: list[str]) -> Any:
        first = next(iter(feeds.values()))
        self._batch_rows.observe(first.shape[0] if first.ndim else 1)
        started = time.perf_counter()
        try:
            results = model.run(feeds, names)
        except InputRejected as e:
            raise BadRequest(f"the model rejected the input: {e}") from e
        self._inference_latency.observe(time.perf_counter() - started)
        if self.monitor is not None:
            self.monitor.observe(feeds, dict(zip(names, results, strict=True)))
        return results

    def infer(
        self, name: str, version: str | None, body: bytes, header_length: str | None
    ) -> tuple[bytes, int | None, int]:
        """Response body, the JSON part's length when binary outputs follow, and the rows."""
        model = self.model_for(name, version)
        request = codecs.decode_infer_request(body, header_length, model.input_by_name)
        wanted, arrays = self.run_inference(model, request)
        body_out, json_length = codecs.encode_infer_response(
            model_name=self.name,
            model_version=self.version,
            request=request,
            names=[o.name for o in wanted],
            arrays=arrays,
            binary_names={o.name for o in wanted if o.binary},
        )
        return body_out, json_length, request.rows

    def run_inference(
        self, model: OnnxModel, request: codecs.InferenceRequest
    ) -> tuple[list[codecs.RequestedOutput], list[np.ndarray]]:
        """Run a decoded request (HTTP or gRPC alike): the outputs it asked for (all when it
        named none) and their arrays."""
        wanted = request.outputs or [
            codecs.RequestedOutput(s.name, request.binary_output) for s in model.outputs
        ]
        unknown = [o.name for o in wanted if o.name not in model.output_by_name]
        if unknown:
            raise BadRequest(
                f"output '{unknown[0]}' is not an output of this model "
                f"(outputs: {', '.join(model.output_by_name)})"
            )
        arrays = self._run(model, request.inputs, [o.name for o in wanted])
        return wanted, arrays

    def predict_v1(self, name: str | None, body: bytes) -> tuple[bytes, int]:
        """KServe v1: the model's first output, one prediction per instance."""
        if name is not None:
            self._resolve(name, None)
        model = self._loaded()
        feeds = codecs.decode_instances(body, model.inputs)
        first = model.outputs[0].name
        (array,) = self._run(model, feeds, [first])
        rows = next(iter(feeds.values())).shape[0]
        return codecs.encode_predictions(array), rows

    def feedback(
        self, name: str, version: str | None, body: bytes, header_length: str | None
    ) -> bytes:
        """Ground truth for earlier predictions: tensors ``predicted`` and ``actual`` shaped
        like the output named by ``parameters.output`` (default: the model's first output)."""
        self._resolve(name, version)
        model = self._loaded()
        output = _feedback_output(body, header_length, model.outputs[0].name)
        spec = model.output_by_name.get(output)
        if spec is None:
            raise BadRequest(
                f"parameters.output '{output}' is not an output of this model "
                f"(outputs: {', '.join(model.output_by_name)})"
            )
        tensor = replace(spec, name="")
        specs = {part: replace(tensor, name=part) for part in ("predicted", "actual")}
        request = codecs.decode_infer_request(body, header_length, specs)
        predicted, actual = request.inputs["predicted"], request.inputs["actual"]
        if predicted.shape != actual.shape:
            raise BadRequest(
                f"'predicted' has shape {list(predicted.shape)} but 'actual' "
                f"{list(actual.shape)}: give one actual value per prediction"
            )
        score = drift.score_feedback(self.name, output, predicted, actual)
        return codecs.dumps(
            {
                "model_name": self.name,
                "output": output,
                "rows": score.rows,
                **({"correct": score.correct} if score.correct is not None else {}),
                **(
                    {"absolute_error": score.absolute_error}
                    if score.absolute_error is not None
                    else {}
                ),
            }
        )
