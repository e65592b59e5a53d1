"""The Open Inference Protocol's gRPC API, served by every worker beside HTTP.

Each gunicorn worker starts a gRPC server on GRPC_PORT (grpcio binds with SO_REUSEPORT, so the
workers share the port as their HTTP sockets do) once its model is loaded. It calls the same
data plane as the HTTP routes (so the same model session, checks, inference metrics and
whatever the data plane counts per request), writes the same access log line and request
metrics (method `GRPC`, route the RPC's full name, status the HTTP code the error would have
had), reports the same readiness (not ready while draining), obeys MAX_REQUEST_BYTES (larger
messages get RESOURCE_EXHAUSTED from grpcio), and stops taking calls when the worker stops
taking connections, finishing those in flight within GRACEFUL_TIMEOUT.

Imported only in workers: grpcio must not start its threads in the master before the fork.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar

import grpc

from serving import observe
from serving.dataplane import DataPlane
from serving.grpc_codec import decode_request, encode_response, metadata_response
from serving.oip_grpc import open_inference_grpc_pb2 as pb
from serving.oip_grpc import open_inference_grpc_pb2_grpc as pb_grpc
from serving.settings import Settings

SERVICE = "/inference.GRPCInferenceService/"
METHOD = "GRPC"
# The gRPC status for each HTTP status the data plane's errors carry (Triton's choices).
STATUS_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    503: grpc.StatusCode.UNAVAILABLE,
}
# Handler threads per worker: inference holds the GIL for its Python part, so more would
# only queue; a few let a slow call not block health checks.
HANDLER_THREADS = 4

T = TypeVar("T")


class InferenceServicer(pb_grpc.GRPCInferenceServiceServicer):
    """GRPCInferenceService over one data plane."""

    def __init__(self, plane: DataPlane, settings: Settings) -> None:
        self.plane = plane
        self.settings = settings

    def _call(
        self, name: str, context: grpc.ServicerContext, work: Callable[[], tuple[T, int | None]]
    ) -> T:
        started = time.perf_counter()
        route = SERVICE + name
        metadata = dict(context.invocation_metadata() or ())
        request_id = str(metadata.get("x-request-id") or secrets.token_hex(16))
        context.send_initial_metadata((("x-request-id", request_id),))
        try:
            result, rows = work()
        except Exception as e:
            status, message = observe.translate(e, self.settings, METHOD, route)
            observe.finish(
                method=METHOD,
                path=route,
                route=route,
                status=status,
                started=started,
                request_id=request_id,
                rows=None,
            )
            context.abort(STATUS_CODES.get(status, grpc.StatusCode.INTERNAL), message)
            raise  # abort raises; this line keeps type checkers and readers sure of it
        observe.finish(
            method=METHOD,
            path=route,
            route=route,
            status=200,
            started=started,
            request_id=request_id,
            rows=rows,
        )
        return result

    def ServerLive(self, request: Any, context: grpc.ServicerContext) -> pb.ServerLiveResponse:
        return self._call("ServerLive", context, lambda: (pb.ServerLiveResponse(live=True), None))

    def ServerReady(self, request: Any, context: grpc.ServicerContext) -> pb.ServerReadyResponse:
        return self._call(
            "ServerReady", context, lambda: (pb.ServerReadyResponse(ready=self.plane.ready()), None)
        )

    def ModelReady(
        self, request: pb.ModelReadyRequest, context: grpc.ServicerContext
    ) -> pb.ModelReadyResponse:
        def work() -> tuple[pb.ModelReadyResponse, None]:
            ready = self.plane.model_ready(request.name, _version(request.version))
            return pb.ModelReadyResponse(ready=ready), None

        return self._call("ModelReady", context, work)

    def ServerMetadata(
        self, request: Any, context: grpc.ServicerContext
    ) -> pb.ServerMetadataResponse:
        doc = self.plane.server_metadata_doc
        return self._call(
            "ServerMetadata", context, lambda: (pb.ServerMetadataResponse(**doc), None)
        )

    def ModelMetadata(
        self, request: pb.ModelMetadataRequest, context: grpc.ServicerContext
    ) -> pb.ModelMetadataResponse:
        def work() -> tuple[pb.ModelMetadataResponse, None]:
            doc = self.plane.model_metadata_doc(request.name, _version(request.version))
            return metadata_response(doc), None

        return self._call("ModelMetadata", context, work)

    def ModelInfer(
        self, request: pb.ModelInferRequest, context: grpc.ServicerContext
    ) -> pb.ModelInferResponse:
        def work() -> tuple[pb.ModelInferResponse, int]:
            plane = self.plane
            version = request.model_version if request.HasField("model_version") else None
            model = plane.model_for(request.model_name, _version(version))
            decoded = decode_request(request, model.input_by_name)
            outputs, arrays = plane.run_inference(model, decoded)
            response = encode_response(
                model_name=plane.name,
                model_version=plane.version,
                request=decoded,
                outputs=outputs,
                arrays=arrays,
            )
            return response, decoded.rows

        return self._call("ModelInfer", context, work)


def _version(version: str | None) -> str | None:
    """The protocol's empty version means "the server's choice", as an absent one does."""
    return version or None


def start(plane: DataPlane, settings: Settings) -> grpc.Server:
    """Start serving GRPCInferenceService on HOST:GRPC_PORT; returns the running server."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=HANDLER_THREADS, thread_name_prefix="grpc-handler"),
        options=[
            ("grpc.so_reuseport", 1),
            ("grpc.max_receive_message_length", settings.max_request_bytes),
            ("grpc.max_send_message_length", -1),
        ],
    )
    servicer = InferenceServicer(plane, settings)
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    server.add_insecure_port(f"{settings.host}:{settings.grpc_port}")
    server.start()
    return server
