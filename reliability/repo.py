"""Scratch repositories for the campaign, and the real ``mlgitops`` CLI run on them.

The CLI always runs as its own process: a traceback, a hang or a memory blow-up must show up
the way a user would see it, and a SIGKILL must hit a real process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MLGITOPS = Path(sys.executable).with_name("mlgitops")
EXAMPLE_MODELS = ("iris-classifier", "diabetes-regressor", "digits-classifier")
GENERATED = ("base", "components", "overlays", "clusters")

ARTIFACT = b"stand-in for an ONNX file: the generator only hashes it\n"
ARTIFACT_SHA256 = hashlib.sha256(ARTIFACT).hexdigest()

ENVIRONMENTS_YAML = """\
apiVersion: mlgitops/v1
kind: Platform
registry: registry.example.com/ml
kubernetesVersion: "1.33"
repository: {url: https://github.com/acme/ml-deployments.git, branch: main}
environments:
  - name: dev
    namespace: ml-dev
    cluster: https://kubernetes.default.svc
    nodePools:
      cpu: {nodeSelector: {pool: cpu}, tolerations: []}
    quota: {cpu: "16", memory: 64Gi, gpus: 0, pods: 60}
"""

MODEL_YAML = f"""\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: fraud
  owner: team-risk
spec:
  version: "1.0.0"
  artifact: {{path: model.onnx, sha256: {ARTIFACT_SHA256}}}
  resources: {{cpu: 250m, memory: 256Mi}}
"""


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def small_repo(root: Path, files: Mapping[str, str | bytes] | None = None) -> Path:
    """One environment, one model ``fraud`` with a stand-in artifact; ``files`` on top."""
    tree: dict[str, str | bytes] = {
        "environments.yaml": ENVIRONMENTS_YAML,
        "models/fraud/model.yaml": MODEL_YAML,
        "models/fraud/model.onnx": ARTIFACT,
    }
    tree.update(files or {})
    return write_tree(root, tree)


def example_repo(root: Path) -> Path:
    """The project's own inputs (three real ONNX models and their profiles, three
    environments), no output."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "environments.yaml", root / "environments.yaml")
    for name in EXAMPLE_MODELS:
        folder = root / "models" / name
        folder.mkdir(parents=True)
        for entry in (REPO / "models" / name).iterdir():
            if entry.suffix in (".yaml", ".onnx") or entry.name == "profile.json":
                shutil.copy2(entry, folder / entry.name)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the generated folders, plus the transaction area if one is left."""
    files: dict[str, bytes] = {}
    for top in (*GENERATED, ".mlgitops-txn"):
        for path in sorted((root / top).rglob("*")):
            if path.is_file() or path.is_symlink():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def generated_only(tree: Mapping[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in tree.items() if not k.startswith(".mlgitops-txn/")}


@dataclass(frozen=True)
class CliRun:
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_kib: int

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stdout + self.stderr


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env.update(extra or {})
    return env


def run_cli(
    root: Path,
    *args: str,
    prefix: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> CliRun:
    """``mlgitops --root ROOT ARGS`` as a child process; wait4 gives its own peak RSS.

    A run that outlives ``timeout`` is killed and reported with exit code -9 (a hang is a
    finding, not a reason to stop the campaign)."""
    command = [*(prefix or [str(MLGITOPS)]), "--root", str(root), *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=err,
            env=dict(env) if env is not None else cli_env(),
            cwd=root,
        )
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return CliRun(
        tuple(args),
        process.returncode,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
        seconds,
        usage.ru_maxrss,
    )
