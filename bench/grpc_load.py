"""Load for the gRPC benchmark points.

- `h2load_rate`: calls/s from nghttp2's h2load, a native HTTP/2 load generator that costs the
  shared cores little.
- `run_load`: a closed-loop gRPC client for latency and gRPC status: `concurrency` asyncio
  tasks, each sending its next ModelInfer when the last is answered (as wrk does over HTTP),
  over one channel per task. It runs in Python on the same cores as the servers (ghz, a Go
  binary, is not installable here), which caps the calls/s it can drive: hence h2load for
  those.
"""

from __future__ import annotations

import asyncio
import re
import struct
import subprocess
import tempfile
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


def h2load_rate(address: str, concurrency: int, rows: int, seconds: int) -> float:
    """Calls/s of `concurrency` HTTP/2 connections, one call in flight each, driven by h2load
    (nghttp2's native load generator) sending `request(rows)` as a gRPC length-prefixed
    message (a 0 compression flag, the 4-byte big-endian length, the message). h2load sees
    HTTP statuses only, not grpc-status: the servers' access logs or `run_load`'s error count
    tell failed calls. Raises RuntimeError when h2load reports a failed, errored or non-2xx
    request."""
    message = request(rows).SerializeToString()
    with tempfile.NamedTemporaryFile(suffix=".grpc") as body:
        body.write(b"\x00" + struct.pack(">I", len(message)) + message)
        body.flush()
        out = subprocess.run(
            [
                *("h2load", "-D", str(seconds), "-c", str(concurrency), "-m", "1"),
                *("-d", body.name, "-H", "content-type: application/grpc", "-H", "te: trailers"),
                f"http://{address}/inference.GRPCInferenceService/ModelInfer",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    done = re.search(r"(\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    rate = re.search(r"finished in [\d.]+s, ([\d.]+) req/s", out)
    if done is None or codes is None or rate is None:
        raise RuntimeError(f"unexpected h2load output:\n{out}")
    # A timed run stops with a call in flight: it has a status but is not "done".
    if sum(map(int, done.groups()[1:])) or sum(map(int, codes.groups())):
        raise RuntimeError(f"h2load saw failed requests:\n{out}")
    return float(rate.group(1))


def run_load(address: str, concurrency: int, rows: int, seconds: float) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) and errors of `concurrency` closed-loop clients."""
    return asyncio.run(_load(address, concurrency, rows, seconds))
