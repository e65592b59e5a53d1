"""A closed-loop gRPC load generator for the Open Inference Protocol's ModelInfer: `concurrency`
asyncio tasks, each sending its next request when the last is answered (as wrk does over
HTTP), over one channel per task. No wrk-like tool for gRPC is installable here (ghz is a Go
binary), so this runs in Python on the same cores as the servers: it costs every server alike.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import numpy as np

from serving.oip_grpc import open_inference_grpc_pb2 as pb
from serving.oip_grpc import open_inference_grpc_pb2_grpc as pb_grpc


def request(rows: int) -> pb.ModelInferRequest:
    data = np.tile(np.array([5.1, 3.5, 1.4, 0.2], dtype=np.float32), rows)
    message = pb.ModelInferRequest(model_name="iris")
    message.inputs.add(name="input", datatype="FP32", shape=[rows, 4])
    message.raw_input_contents.append(data.tobytes())
    return message


async def _load(address: str, concurrency: int, rows: int, seconds: float) -> dict[str, float]:
    message = request(rows)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)  # type: ignore[no-untyped-call]
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    await stub.ModelInfer(message, timeout=30)
                except grpc.aio.AioRpcError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ms = np.array(latencies or [0.0]) * 1000
    return {
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "errors": errors,
    }


def run_load(address: str, concurrency: int, rows: int, seconds: float) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) and errors of `concurrency` closed-loop clients."""
    return asyncio.run(_load(address, concurrency, rows, seconds))
