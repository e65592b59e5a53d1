"""The memory figures the generator sizes pods with (`generator.check.sizing`) hold for the real
server: a served model's master and workers fit in what the generator reserves, and ONNX
Runtime's load peak stays under the ratio it assumes. (The constants themselves come from
``python -m bench.memory``; these tests fail when the server outgrows them.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from generator.check.sizing import LOAD_FIXED_BYTES, LOAD_PEAK_RATIO, MemoryNeed
from tests.generator.test_sizing import weights_model
from tests.serving.conftest import start_server

MIB = 2**20
_PEAK = """
import sys
from serving.model import OnnxModel
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field + ':'):
            return int(line.split()[1]) * 1024
before = status('VmRSS')
OnnxModel(sys.argv[1], providers=['CPUExecutionProvider'], intra_op_threads=1)
print(before, status('VmHWM'))
"""


def proportional_set_size(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no Pss line for {pid}")


def test_a_served_model_fits_in_what_the_generator_reserves(
    tmp_path: Path, iris_model: Path
) -> None:
    server = start_server(tmp_path, iris_model, WORKERS="2", THREADS="1")
    try:
        pid = server.process.pid
        workers = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii").split()
        used = proportional_set_size(pid) + sum(proportional_set_size(int(w)) for w in workers)
    finally:
        assert server.stop() == 0
    assert len(workers) == 2
    reserved = MemoryNeed(2, iris_model.stat().st_size).total
    assert used <= reserved, f"{used / MIB:.1f} MiB used > {reserved / MIB:.1f} MiB reserved"


def test_loading_peaks_below_the_assumed_ratio_of_the_artifact(tmp_path: Path) -> None:
    artifact = weights_model(tmp_path / "weights.onnx", 16 * MIB)
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(artifact)], check=True, capture_output=True, text=True
    ).stdout.split()
    before, peak = int(out[0]), int(out[1])
    size = artifact.stat().st_size
    assert size < peak - before <= LOAD_PEAK_RATIO * size + LOAD_FIXED_BYTES
