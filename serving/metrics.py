"""Prometheus metrics, safe under gunicorn's several worker processes.

prometheus-client picks its multiprocess value store when first imported, from
PROMETHEUS_MULTIPROC_DIR; the CLI sets that variable before anything imports this module.
In that mode Info/Enum and callback gauges do not work, so readiness is a plain gauge that each
worker sets, aggregated with `livemin`: ready only if every live worker is.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)

REQUESTS = Counter(
    "mlgitops_serve_requests_total",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
REQUEST_LATENCY = Histogram(
    "mlgitops_serve_request_duration_seconds",
    "Time from receiving a request to having its response ready, by route template.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
INFERENCE_LATENCY = Histogram(
    "mlgitops_serve_inference_duration_seconds",
    "Time spent inside ONNX Runtime per inference call.",
    ["model"],
    buckets=_LATENCY_BUCKETS,
)
BATCH_ROWS = Histogram(
    "mlgitops_serve_batch_rows",
    "Rows (first dimension of the first input) per inference call.",
    ["model"],
    buckets=_ROW_BUCKETS,
)
MODEL_LOAD_SECONDS = Gauge(
    "mlgitops_serve_model_load_seconds",
    "Seconds the latest model load took in a worker.",
    ["model"],
    multiprocess_mode="livemax",
)
# Every worker can tell whether the whole server is ready (`serving.lifecycle`), and the worker
# that answers a scrape sets its value first: the most recent value is the current one. (With
# "livemin", a worker that had not been probed since a sibling finished loading kept an old 0.)
MODEL_READY = Gauge(
    "mlgitops_serve_model_ready",
    "1 when every live worker has the model loaded and the server is not draining, else 0.",
    ["model"],
    multiprocess_mode="livemostrecent",
)

# Which ONNX Runtime execution provider runs the model: 1 for the one each worker's session put
# first (the one that computes), 0 for the other requested ones. A GPU deployment that shows
# CPUExecutionProvider at 1 is computing on the CPU.
EXECUTION_PROVIDER = Gauge(
    "mlgitops_serve_execution_provider",
    "1 for the execution provider the model runs on, 0 for requested providers it does not.",
    ["model", "provider"],
    multiprocess_mode="livemax",
)


def observe_providers(model: str, requested: tuple[str, ...], active: list[str]) -> None:
    """Set `EXECUTION_PROVIDER` for every requested and active provider of this worker."""
    for provider in dict.fromkeys([*requested, *active]):
        EXECUTION_PROVIDER.labels(model, provider).set(1 if active[:1] == [provider] else 0)


# Labelled children by label values: `labels()` takes a lock and builds keys on every call, which
# costs more than the update itself on the per-request path.
_REQUEST_CHILDREN: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and observe its latency."""
    key = (route, method, str(status))
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = (REQUESTS.labels(*key), REQUEST_LATENCY.labels(route))
        _REQUEST_CHILDREN[key] = children
    count, latency = children
    count.inc()
    latency.observe(seconds)


def exposition() -> tuple[bytes, str]:
    """Text exposition of all workers' metrics (or this process's, outside gunicorn)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
