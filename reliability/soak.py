"""Load for a long while at the benchmark's top concurrency, with the server's memory sampled:
zero errors and bounded RSS growth."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from bench.serving import wrk
from reliability.serverfaults import IRIS, worker_pids
from tests.serving.conftest import start_server

CONCURRENCY = 32
GROWTH_BOUND = 0.25
"""Allowed RSS growth from the end of the first tenth of the soak to its end."""


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        total += next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")
        )
    return total


def soak(work: Path, seconds: int) -> dict[str, Any]:
    server = start_server(work, IRIS, WORKERS="2", THREADS="4")
    samples: list[tuple[float, int]] = []
    result: dict[str, Any] = {}
    try:
        pids = [server.process.pid, *worker_pids(server)]
        started = time.monotonic()
        load = threading.Thread(
            target=lambda: result.update(
                wrk(server.url + "/v2/models/iris/infer", CONCURRENCY, 1, seconds, work)
            )
        )
        load.start()
        while load.is_alive():
            samples.append((time.monotonic() - started, rss_kib(pids)))
            load.join(timeout=1.0)
        restarted = sorted(set(worker_pids(server)) ^ set(pids[1:]))
    finally:
        server.stop()
    warm = [kib for at, kib in samples if at >= seconds * 0.1]
    first, peak, last = (warm[0], max(warm), warm[-1]) if warm else (0, 0, 0)
    return {
        "seconds": seconds,
        "concurrency": CONCURRENCY,
        "requests_per_s": result.get("requests_per_s", 0.0),
        "requests": round(result.get("requests_per_s", 0.0) * seconds),
        "errors": int(result.get("errors", -1)),
        "p99_ms": result.get("p99_ms", 0.0),
        "rss_start_mib": round(first / 1024, 1),
        "rss_max_mib": round(peak / 1024, 1),
        "rss_end_mib": round(last / 1024, 1),
        "growth": round((last - first) / first, 3) if first else 0.0,
        "growth_bound": GROWTH_BOUND,
        "workers_restarted": len(restarted),
    }
