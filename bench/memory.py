"""Memory the model server needs: per gunicorn worker, and per byte of ONNX artifact loaded.

    python -m bench.memory [--sizes-mib 16,64,256] [--workers 1,4]

Two measurements, behind the constants of `generator.check.sizing`:

- server: the real `mlgitops-serve` on the iris example, once with 1 worker and once with 4;
  the memory the pod would be charged is the proportional set size (PSS, from
  /proc/<pid>/smaps_rollup) of the master and its workers together. The difference per extra
  worker is the per-worker cost; what remains at 1 worker, less one worker, is the master's.
- load peak: ONNX models with one float32 initializer of each size, each loaded --repeat times
  by the server's own `serving.model.OnnxModel` in a fresh process; the peak resident set
  (VmHWM of /proc/self/status; ru_maxrss would also count the resident set the child
  inherited from this process at fork) minus the resident set just before loading. The
  highest of the repeats per size is fitted as fixed + ratio x size: ``ratio`` from the two
  largest sizes, ``fixed`` the most any size needs beyond ``ratio`` x size.

Results go to bench/results/memory.json. Figures are per process and barely depend on load, but
say in reports that the machine was shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.serving import MODEL_DIR, RESULTS, _stop, _wait, body, free_port

MIB = 2**20
_LOAD = """
import sys
from serving.model import OnnxModel
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'):
            return int(line.split()[1]) * 1024
before = status('VmRSS')
model = OnnxModel(sys.argv[1], providers=['CPUExecutionProvider'], intra_op_threads=1)
print(before, status('VmHWM'), status('VmRSS'))
"""


def pss(pid: int) -> int:
    """Proportional set size of one process, in bytes."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    return [int(p) for p in text.split()]


def server_memory(workers: int) -> dict[str, Any]:
    """PSS of master + workers of a served iris model, after a few requests."""
    import urllib.request

    port = free_port()
    env = os.environ | {
        "MODEL_PATH": str(MODEL_DIR / "model.onnx"),
        "MODEL_NAME": "iris",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": str(workers),
        "ORT_INTRA_OP_THREADS": "1",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-memory-"),
    }
    serve = Path(sys.executable).with_name("mlgitops-serve")
    process = subprocess.Popen([str(serve)], env=env, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(url + "/v2/health/ready", process)
        for _ in range(20 * workers):
            request = urllib.request.Request(
                url + "/v2/models/iris/infer",
                data=body(1),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            urllib.request.urlopen(request, timeout=10).read()
        time.sleep(1)
        pids = [process.pid, *children(process.pid)]
        return {"workers": workers, "processes": len(pids), "pss_bytes": sum(pss(p) for p in pids)}
    finally:
        _stop(process)


def make_model(path: Path, size: int) -> Path:
    """y = x @ W with W a float32 [n, 256] initializer of about ``size`` bytes."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rows = max(1, size // (4 * 256))
    weight = numpy_helper.from_array(
        np.random.default_rng(0).random((rows, 256), dtype=np.float32), "W"
    )
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "sized",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", rows])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 256])],
        [weight],
    )
    onnx.save(helper.make_model(graph), str(path))
    return path


def load_peak(path: Path, repeat: int) -> dict[str, Any]:
    """The highest load peak (above the resident set before loading) of ``repeat`` loads."""
    rises, settled = [], []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _LOAD, str(path)], check=True, capture_output=True, text=True
        ).stdout.split()
        before, peak, after = (int(v) for v in out)
        rises.append(peak - before)
        settled.append(after - before)
    size = path.stat().st_size
    return {
        "artifact_bytes": size,
        "peak_rise_bytes": rises,
        "settled_rise_bytes": settled,
        "peak_over_artifact": round(max(rises) / size, 3),
    }


def fit(loads: list[dict[str, Any]]) -> dict[str, float]:
    """peak = fixed + ratio x size, bounding every measured size from above."""
    small, large = sorted(loads, key=lambda e: e["artifact_bytes"])[-2:]
    ratio = (max(large["peak_rise_bytes"]) - max(small["peak_rise_bytes"])) / (
        large["artifact_bytes"] - small["artifact_bytes"]
    )
    fixed = max(max(e["peak_rise_bytes"]) - ratio * e["artifact_bytes"] for e in loads)
    return {"load_ratio": round(ratio, 3), "load_fixed_mib": round(fixed / MIB, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes-mib", default="8,16,32,64,128,256")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="1,4")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    servers = [server_memory(w) for w in counts]
    low, high = servers[0], servers[-1]
    per_worker = (high["pss_bytes"] - low["pss_bytes"]) / (high["workers"] - low["workers"])
    loads = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as scratch:
        for mib in (int(s) for s in args.sizes_mib.split(",")):
            path = make_model(Path(scratch) / f"model-{mib}.onnx", mib * MIB)
            loads.append(load_peak(path, args.repeat))
            path.unlink()
    result = {
        "server": servers,
        "per_worker_mib": round(per_worker / MIB, 1),
        "master_mib": round((low["pss_bytes"] - per_worker * low["workers"]) / MIB, 1),
        "load": loads,
        **fit(loads),
        "note": "2 shared cores, 8 engineers' jobs running; memory figures barely depend on load",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
