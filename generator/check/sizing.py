"""How much CPU and memory the model server needs, from its workers and its artifact.

The constants are measured with the real server (``python -m bench.memory``, results in
``bench/results/memory.json``, on a shared 2-core machine):

- ``mlgitops-serve`` on the iris example, 1 worker then 4: proportional set size (PSS, what
  the pod's memory cgroup is charged, shared library pages counted once) of master and
  workers together grew by 42.0 MiB per worker, and the master took 57.3 MiB, after the gRPC
  endpoint and drift monitoring joined the server (31.9 and 53.1 MiB before them). (Issue
  13's 73 MiB per worker is a resident set size, which counts the
  shared libraries again in every worker.)
- ONNX Runtime loading a float32 MatMul model through the server's own `serving.model`, in a
  fresh process, 8 to 256 MiB files: the resident set's high-water mark rises by 2.0 x the
  file size plus 6.3 MiB above what it was before (2.78x at 8 MiB, 2.10x at 64, 2.02x at
  256), and settles near 1x after the load. Issue 13 reports a 1.5 GB file peaking at
  3.1 GB (2.07x) for another model, so the ratio here is 2.1; the fixed part is inside the
  per-worker figure, measured with a model loaded.

Every worker loads its own session (sessions are not fork-safe), all at the same time at start,
so the peaks add up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from generator.quantities import format_bytes, millicores

MIB = 2**20
MASTER_BYTES = 60 * MIB
WORKER_BYTES = 44 * MIB
LOAD_PEAK_RATIO = 2.1
# The load peak's part that does not grow with the artifact (6.3 to 9.5 MiB measured); WORKER_BYTES,
# measured with a model loaded, already holds it.
LOAD_FIXED_BYTES = 12 * MIB
INIT_HEADROOM = 1.25
INIT_MINIMUM_BYTES = 512 * MIB
INIT_STEP_BYTES = 64 * MIB


def intra_op_threads(cpu: str, workers: int) -> int:
    """ONNX Runtime intra-op threads per worker: the CPU request divided among the workers,
    whole cores, at least 1. (ONNX Runtime would size its pool from the node's cores, which
    ``sched_getaffinity`` in a pod without a cpuset reports in full: see DESIGN.md.)"""
    return max(1, millicores(cpu) // 1000 // max(workers, 1))


@dataclass(frozen=True)
class MemoryNeed:
    """The memory one replica needs at start, and the terms it is the sum of (bytes)."""

    workers: int
    artifact_bytes: int

    @property
    def per_worker(self) -> int:
        return WORKER_BYTES + math.ceil(LOAD_PEAK_RATIO * self.artifact_bytes)

    @property
    def total(self) -> int:
        return MASTER_BYTES + self.workers * self.per_worker

    def arithmetic(self) -> str:
        """The sum, spelled out for an error message."""
        return (
            f"{_mib(MASTER_BYTES)} MiB (server master) + {self.workers} worker(s) x "
            f"({_mib(WORKER_BYTES)} MiB + {LOAD_PEAK_RATIO:g} x {_size(self.artifact_bytes)} "
            f"artifact while loading) = {_mib(self.total)} MiB"
        )

    def workers_fitting(self, memory: int) -> int:
        return max(0, (memory - MASTER_BYTES) // self.per_worker)


def _mib(value: int) -> str:
    return f"{value / MIB:.1f}".removesuffix(".0")


def _size(value: int) -> str:
    return f"{_mib(value)} MiB" if value >= MIB else f"{value} bytes"


def round_up(value: int, step: int = INIT_STEP_BYTES) -> int:
    return -(-value // step) * step


def initial_memory(workers: int, artifact_bytes: int) -> str:
    """The memory ``mlgitops init`` writes: the need with 25% headroom, in 64 MiB steps, and
    never below the schema default of 512Mi."""
    need = MemoryNeed(workers, artifact_bytes).total
    return format_bytes(max(INIT_MINIMUM_BYTES, round_up(math.ceil(need * INIT_HEADROOM))))
